// Computes the test vectors in beyond.json with Node's own crypto (ECDH
// P-256, HKDF, AES-256-GCM from OpenSSL) and the field arithmetic written
// out below, independently of the Go packages and of the browser code:
//   node beyond.mjs > beyond.json
// Bundles are written with JSON.stringify, as the browser writes them.
import { createECDH, hkdfSync, createCipheriv } from "node:crypto";

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

function z85(buf) {
  let s = "";
  for (let i = 0; i < buf.length; i += 4) {
    const group = Buffer.alloc(4);
    buf.copy(group, 0, i, Math.min(i + 4, buf.length));
    let v = BigInt(group.readUInt32BE(0));
    const chars = [];
    for (let j = 0; j < 5; j++) {
      chars.unshift(alphabet[Number(v % 85n)]);
      v /= 85n;
    }
    s += chars.slice(0, Math.min(4, buf.length - i) + 1).join("");
  }
  return s;
}

const b64url = (b) => Buffer.from(b).toString("base64url");
const hkdf = (ikm, info, n) => Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), info, n));
const seq = (n, start, step) => Buffer.from(Array.from({ length: n }, (_, i) => (start + i * step) & 255));

// seal is the otsz1 envelope of plain under K (no passphrase), with iv.
function seal(K, iv, plain) {
  const content = hkdf(K, "otslite zk1 content", 32);
  const cipher = createCipheriv("aes-256-gcm", content, iv);
  cipher.setAAD(Buffer.from("otsz1:"));
  const ct = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return "otsz1:" + z85(Buffer.concat([iv, ct]));
}

// bundle writes 0x00 0x01, the header's length and the header, then the
// payload.
function bundle(header, payload) {
  const h = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(h.length);
  return Buffer.concat([Buffer.from([0, 1]), len, h, payload]);
}

// GF(2^8) with x^8 + x^4 + x^3 + x + 1, as the textbook writes it.
function mul(a, b) {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if ((b >> i) & 1) p ^= a << i;
  }
  for (let i = 15; i >= 8; i--) {
    if ((p >> i) & 1) p ^= 0x11b << (i - 8);
  }
  return p;
}

// A split with given coefficients: coef[d-1][j] is coefficient d of byte j.
function shares(secret, k, n, coef) {
  const out = [];
  for (let x = 1; x <= n; x++) {
    const y = Buffer.alloc(secret.length);
    for (let j = 0; j < secret.length; j++) {
      let v = secret[j];
      let xp = 1;
      for (let d = 1; d < k; d++) {
        xp = mul(xp, x);
        v ^= mul(coef[d - 1][j], xp);
      }
      y[j] = v;
    }
    out.push(y);
  }
  return out;
}

const files = [
  { name: "notes.txt", type: "text/plain", data: Buffer.from("first file\n") },
  { name: "quote \" and é 비밀 \u2028.bin", type: "application/octet-stream", data: seq(300, 7, 3) },
  { name: "empty", type: "", data: Buffer.alloc(0) },
];
const text = "a text with the files: ünïcödé 🔐";
const textBytes = Buffer.from(text, "utf8");
const plainBundle = bundle(
  { text: textBytes.length, files: files.map((f) => ({ name: f.name, type: f.type, size: f.data.length })) },
  Buffer.concat([textBytes, ...files.map((f) => f.data)]),
);
const filesOnly = bundle({ files: [{ name: "a", type: "", size: 2 }] }, Buffer.from("ab"));

// A 2-of-3 split of plainBundle: each share is a bundle of its own.
const k = 2, n = 3;
const coef = [seq(plainBundle.length, 0x31, 7)];
const ys = shares(plainBundle, k, n, coef);
const id = seq(16, 0xd0, 1);
const shareBundles = ys.map((y, i) => bundle({ text: 0, files: [], share: { k, n, x: i + 1, id: b64url(id) } }, y));

// A request answered with a bundle.
const requester = createECDH("prime256v1");
requester.setPrivateKey(seq(32, 0x11, 1));
const answerer = createECDH("prime256v1");
answerer.setPrivateKey(seq(32, 0x77, 3));
const reqPub = requester.getPublicKey();
const ePub = answerer.getPublicKey();
const Z = answerer.computeSecret(reqPub);
const K = hkdf(Z, Buffer.concat([Buffer.from("otslite zk1 request"), reqPub, ePub]), 32);
const answerPlain = bundle({ text: 6, files: [{ name: "answer.txt", type: "text/plain", size: 4 }] }, Buffer.from("answerdata"));
const ivs = [seq(12, 1, 1), seq(12, 2, 2), seq(12, 3, 3), seq(12, 4, 4), seq(12, 5, 5)];

console.log(JSON.stringify({
  bundle: {
    key: K.toString("hex"),
    iv: ivs[0].toString("hex"),
    text: text,
    files: files.map((f) => ({ name: f.name, type: f.type, data: f.data.toString("hex") })),
    plain: plainBundle.toString("hex"),
    envelope: seal(K, ivs[0], plainBundle),
    files_only: filesOnly.toString("hex"),
  },
  split: {
    k, n,
    secret: plainBundle.toString("hex"),
    coefficients: coef.map((c) => c.toString("hex")),
    id: b64url(id),
    shares: ys.map((y) => y.toString("hex")),
    share_bundles: shareBundles.map((b) => b.toString("hex")),
  },
  request: {
    requester_private: seq(32, 0x11, 1).toString("hex"),
    requester_public: b64url(reqPub),
    answer_private: seq(32, 0x77, 3).toString("hex"),
    answer_public: b64url(ePub),
    shared: Z.toString("hex"),
    key: K.toString("hex"),
    proof: "zk1." + b64url(hkdf(K, "otslite zk1 link proof", 32)),
    iv: ivs[1].toString("hex"),
    plain: answerPlain.toString("hex"),
    envelope: seal(K, ivs[1], answerPlain),
  },
}, null, 2));
