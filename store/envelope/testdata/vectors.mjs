// Computes the otsz1 test vectors in vectors.json with Node's own crypto
// (HKDF, PBKDF2, AES-256-GCM from OpenSSL), independently of the Go package
// and of the browser code:   node vectors.mjs > vectors.json
import { hkdfSync, pbkdf2Sync, createCipheriv } from "node:crypto";

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// base85 with Z85's alphabet; a last group of k bytes keeps k+1 characters.
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

const cases = [
  { name: "no passphrase", key: seq(32, 0, 1), iv: seq(12, 0xa0, 1), text: "hunter2", passphrase: "" },
  { name: "one byte", key: seq(32, 7, 13), iv: seq(12, 1, 3), text: "x", passphrase: "" },
  { name: "two bytes, full alphabet", key: seq(32, 255, 255), iv: seq(12, 255, 1), text: "é", passphrase: "" },
  { name: "passphrase", key: seq(32, 0x10, 5), iv: seq(12, 0x40, 7), text: "line one\nline \"two\" \\ & < >\n", passphrase: "correct horse battery staple" },
  { name: "passphrase in NFD", key: seq(32, 0x33, 11), iv: seq(12, 9, 9), text: "Ünïcödé 비밀 🔐", passphrase: "U\u0308n\u0131\u0308co\u0308de\u0301 pa\u0308ssphrase" },
  { name: "passphrase longer than a block", key: seq(32, 0x80, 1), iv: seq(12, 0, 0), text: "long", passphrase: "p".repeat(70) + "ß" },
];

const out = cases.map((c) => {
  const withPass = c.passphrase !== "";
  let ikm = c.key;
  if (withPass) {
    const salt = hkdf(c.key, "otslite zk1 salt", 16);
    const stretched = pbkdf2Sync(Buffer.from(c.passphrase.normalize("NFC"), "utf8"), salt, 600000, 32, "sha256");
    ikm = Buffer.concat([c.key, stretched]);
  }
  const content = hkdf(ikm, "otslite zk1 content", 32);
  let proof = "zk1." + b64url(hkdf(c.key, "otslite zk1 link proof", 32));
  if (withPass) proof += "." + b64url(hkdf(ikm, "otslite zk1 proof", 32));
  const cipher = createCipheriv("aes-256-gcm", content, c.iv);
  cipher.setAAD(Buffer.from("otsz1:"));
  const ct = Buffer.concat([cipher.update(Buffer.from(c.text, "utf8")), cipher.final(), cipher.getAuthTag()]);
  return {
    name: c.name,
    key: c.key.toString("hex"),
    iv: c.iv.toString("hex"),
    text: c.text,
    passphrase: c.passphrase,
    fragment: (withPass ? "1p" : "1n") + b64url(c.key),
    content_key: content.toString("hex"),
    proof: proof,
    envelope: "otsz1:" + z85(Buffer.concat([c.iv, ct])),
  };
});
console.log(JSON.stringify(out, null, 2));
