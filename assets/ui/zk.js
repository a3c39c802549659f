// otslite UI: zero-knowledge secrets. The browser encrypts; the server
// stores only ciphertext, and releases it only to a request that carries a
// proof derived from the link's key (and the passphrase, when there is one).
//
// Format "otsz1", proof version 2 (also in the README, "Encrypted in the
// browser"):
//
//   K        32 random bytes, made by the sender's browser.
//   link     /secret/<secret_key>#1n<k> or #1p<k>, where k is K in base64url
//            without padding (43 characters); "n": no passphrase, "p": the
//            secret also needs one. The receipt link carries the same
//            fragment. Browsers never send the fragment to a server.
//   ikm      K, or with a passphrase P:
//            K || PBKDF2-HMAC-SHA-256(NFC(P) as UTF-8,
//                   salt = HKDF-SHA-256(K, info "otslite zk1 salt", 16 bytes),
//                   600000 iterations, 32 bytes)
//   key      HKDF-SHA-256(ikm, no salt, info "otslite zk1 content", 32 bytes),
//            an AES-256-GCM key.
//   kp       HKDF-SHA-256(K, no salt, info "otslite zk1 link proof", 32 bytes):
//            proves the caller holds the link.
//   pp       HKDF-SHA-256(ikm, no salt, info "otslite zk1 proof", 32 bytes),
//            only with a passphrase: proves the caller knows it.
//   proof    "zk1." + b64url(kp), or with a passphrase
//            "zk1." + b64url(kp) + "." + b64url(pp) (47 or 91 characters;
//            b64url is base64url without padding). It is sent as the v1
//            "passphrase" on create and reveal. No passphrase a person types
//            has this form (the server refuses one that begins with "zk1."),
//            so the server knows a proof when it sees one: it keeps only
//            keyed hashes of kp and pp, a wrong kp reads as an unknown
//            secret, and only a wrong pp (someone who holds the link) counts
//            toward the passphrase lockouts. Burning needs no proof.
//   envelope "otsz1:" + base85(iv || AES-GCM(key, iv, UTF-8 text,
//            additional data "otsz1:")), iv 12 random bytes, the 16-byte tag
//            at the end. It is sent as the v1 "secret". base85 is Z85's
//            alphabet; a last group of k < 4 bytes is written as k + 1
//            characters.
//
// What an envelope holds is UTF-8 text, or a bundle of text and files or a
// share of a split secret (bundle.js, shamir.js): the same envelope seals
// either, as bytes.
//
// Answers to a request (ask.js, request.js, inbox.js) are envelopes under a
// key K both sides derive from an ECDH P-256 exchange: the requester's key
// pair (public key in the request link's fragment, private scalar in the
// requester's own link) and the answerer's one-time pair e:
//
//   request link     /request/<request_key>#<b64url(requester public)>
//   requester's link /inbox/<requester_key>#<b64url(scalar || public)>
//   Z   ECDH(e, requester public) = ECDH(requester private, e public)
//   K   HKDF-SHA-256(Z, no salt, info "otslite zk1 request" || requester
//       public || e public, 32 bytes); public keys are raw uncompressed
//       points (65 bytes). The answer is sealed under K without a
//       passphrase, and sent with its proof and e's public key.
//
// The proof and the content key are independent outputs of HKDF: the
// server, which sees the proof, learns nothing that decrypts. Without the
// fragment nobody can compute the proof, so a link cut at "#" (as a server
// log or a link preview sees it) cannot even fetch the ciphertext.
"use strict";

(function () {
  var TAG = "otsz1:";
  var PROOF_TAG = "zk1.";
  var ITERATIONS = 600000;
  var KEY_BYTES = 32;
  var IV_BYTES = 12;
  var TAG_BYTES = 16;
  var Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  var B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var enc = new TextEncoder();
  var dec = new TextDecoder("utf-8", { fatal: true });

  function available() {
    return !!(window.isSecureContext && window.crypto && crypto.subtle);
  }

  function randomBytes(n) {
    var b = new Uint8Array(n);
    crypto.getRandomValues(b);
    return b;
  }

  // ---- base85 (Z85 alphabet, any length) ----

  function base85Length(n) {
    return Math.floor(n / 4) * 5 + (n % 4 ? n % 4 + 1 : 0);
  }

  // base85Encode writes into bytes and decodes them once: envelopes of
  // files run to millions of characters.
  var Z85CODES = new Uint8Array(85);
  var Z85VALUES = new Int16Array(128).fill(-1);
  for (var zi = 0; zi < 85; zi++) {
    Z85CODES[zi] = Z85.charCodeAt(zi);
    Z85VALUES[Z85.charCodeAt(zi)] = zi;
  }
  var ascii = new TextDecoder("ascii");

  function base85Encode(bytes) {
    var n = bytes.length;
    var out = new Uint8Array(base85Length(n));
    var o = 0;
    for (var i = 0; i < n; i += 4) {
      var k = n - i < 4 ? n - i : 4;
      var v = bytes[i] * 16777216 + (k > 1 ? bytes[i + 1] << 16 : 0) + (k > 2 ? bytes[i + 2] << 8 : 0) + (k > 3 ? bytes[i + 3] : 0);
      var d4 = v % 85; v = (v - d4) / 85;
      var d3 = v % 85; v = (v - d3) / 85;
      var d2 = v % 85; v = (v - d2) / 85;
      var d1 = v % 85;
      var d0 = (v - d1) / 85;
      out[o++] = Z85CODES[d0];
      out[o++] = Z85CODES[d1];
      if (k > 1) out[o++] = Z85CODES[d2];
      if (k > 2) out[o++] = Z85CODES[d3];
      if (k > 3) out[o++] = Z85CODES[d4];
    }
    return ascii.decode(out);
  }

  function base85Decode(s) {
    if (s.length % 5 === 1) return null;
    var n = Math.floor(s.length / 5) * 4 + (s.length % 5 ? s.length % 5 - 1 : 0);
    var out = new Uint8Array(n);
    var o = 0;
    for (var i = 0; i < s.length; i += 5) {
      var m = s.length - i < 5 ? s.length - i : 5;
      var v = 0;
      for (var j = 0; j < 5; j++) {
        var d = 84;
        if (j < m) {
          var c = s.charCodeAt(i + j);
          d = c < 128 ? Z85VALUES[c] : -1;
          if (d < 0) return null;
        }
        v = v * 85 + d;
      }
      if (v > 0xffffffff) return null;
      var w = 0;
      for (j = 0; j < 4; j++) {
        var byteJ = Math.floor(v / Math.pow(256, 3 - j)) % 256;
        if (j < m - 1) out[o++] = byteJ;
        w = w * 256 + (j < m - 1 ? byteJ : 0);
      }
      // A short last group has many spellings that decode alike: only
      // the encoder's is taken, so each byte string has one.
      for (j = 4; m < 5 && j >= 0; j--) {
        var dj = w % 85;
        w = (w - dj) / 85;
        if (j < m && Z85VALUES[s.charCodeAt(i + j)] !== dj) return null;
      }
    }
    return out;
  }

  // ---- base64url, no padding ----

  function b64urlEncode(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 3) {
      var n = bytes.length - i;
      var v = (bytes[i] << 16) | ((n > 1 ? bytes[i + 1] : 0) << 8) | (n > 2 ? bytes[i + 2] : 0);
      s += B64URL.charAt(v >> 18 & 63) + B64URL.charAt(v >> 12 & 63);
      if (n > 1) s += B64URL.charAt(v >> 6 & 63);
      if (n > 2) s += B64URL.charAt(v & 63);
    }
    return s;
  }

  function b64urlDecode(s) {
    if (s.length % 4 === 1) return null;
    var out = new Uint8Array(Math.floor(s.length * 3 / 4));
    var o = 0, acc = 0, bits = 0;
    for (var i = 0; i < s.length; i++) {
      var d = B64URL.indexOf(s.charAt(i));
      if (d < 0) return null;
      acc = (acc << 6 | d) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = acc >> bits & 255;
      }
    }
    if (acc & ((1 << bits) - 1)) return null; // not canonical
    return out;
  }

  // ---- links ----

  // parseFragment reads a link's fragment ("#1n<k>" or "#1p<k>"). It
  // returns null for no fragment, false for a damaged one.
  function parseFragment(hash) {
    if (!hash || hash === "#") return null;
    var m = /^#1([np])([A-Za-z0-9_-]{43})$/.exec(hash);
    var key = m && b64urlDecode(m[2]);
    if (!key || key.length !== KEY_BYTES) return false;
    return { key: key, passphrase: m[1] === "p", fragment: hash.slice(1) };
  }

  // ---- derivations ----

  // hkdf derives bytes from ikm; info is a string or bytes.
  function hkdf(ikm, info, bytes) {
    return crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]).then(function (k) {
      return crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: typeof info === "string" ? enc.encode(info) : info }, k, bytes * 8);
    }).then(function (bits) { return new Uint8Array(bits); });
  }

  // inputKey derives ikm from K and the passphrase ("" for none).
  function inputKey(key, passphrase) {
    if (!passphrase) return Promise.resolve(key.slice());
    var pass = enc.encode(passphrase.normalize("NFC"));
    return hkdf(key, "otslite zk1 salt", 16).then(function (salt) {
      return crypto.subtle.importKey("raw", pass, "PBKDF2", false, ["deriveBits"]).then(function (pk) {
        pass.fill(0);
        return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: ITERATIONS }, pk, 256);
      });
    }).then(function (bits) {
      var ikm = new Uint8Array(KEY_BYTES + 32);
      ikm.set(key, 0);
      ikm.set(new Uint8Array(bits), KEY_BYTES);
      return ikm;
    });
  }

  // proofOf is the wire form of the proof: kp from K, and pp from ikm when
  // the link needs a passphrase.
  function proofOf(key, ikm, withPassphrase) {
    var parts = [hkdf(key, "otslite zk1 link proof", 32)];
    if (withPassphrase) parts.push(hkdf(ikm, "otslite zk1 proof", 32));
    return Promise.all(parts).then(function (p) {
      var s = PROOF_TAG + p.map(b64urlEncode).join(".");
      p.forEach(function (b) { b.fill(0); });
      return s;
    });
  }

  function contentKey(ikm, usage) {
    return hkdf(ikm, "otslite zk1 content", 32).then(function (raw) {
      return crypto.subtle.importKey("raw", raw, "AES-GCM", false, [usage]).then(function (k) {
        raw.fill(0);
        return k;
      });
    });
  }

  // ---- sealing and opening ----

  // envelopeLength is the length of the envelope of n bytes.
  function envelopeLength(n) {
    return TAG.length + base85Length(IV_BYTES + n + TAG_BYTES);
  }

  // maxPlain is the most bytes of text whose envelope fits in max bytes.
  function maxPlain(max) {
    var n = Math.max(0, Math.floor((max - TAG.length) * 4 / 5) - IV_BYTES - TAG_BYTES);
    while (n > 0 && envelopeLength(n) > max) n--;
    while (envelopeLength(n + 1) <= max) n++;
    return n;
  }

  // encrypt seals plain under the content key derived from ikm.
  function encrypt(ikm, plain) {
    return contentKey(ikm, "encrypt").then(function (k) {
      var iv = randomBytes(IV_BYTES);
      return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: enc.encode(TAG) }, k, plain).then(function (ct) {
        var body = new Uint8Array(IV_BYTES + ct.byteLength);
        body.set(iv, 0);
        body.set(new Uint8Array(ct), IV_BYTES);
        return TAG + base85Encode(body);
      });
    });
  }

  // sealBytes encrypts plain (text as UTF-8, or a bundle) for a new secret
  // under a fresh key. It resolves to {envelope, proof, fragment}; plain is
  // the caller's, to wipe.
  function sealBytes(plain, passphrase) {
    var key = randomBytes(KEY_BYTES);
    var fragment = "1" + (passphrase ? "p" : "n") + b64urlEncode(key);
    return inputKey(key, passphrase).then(function (ikm) {
      return Promise.all([proofOf(key, ikm, !!passphrase), encrypt(ikm, plain)]).then(function (r) {
        key.fill(0);
        ikm.fill(0);
        return { envelope: r[1], proof: r[0], fragment: fragment };
      });
    });
  }

  // seal encrypts text for a new secret. It resolves to {envelope, proof,
  // fragment}.
  function seal(text, passphrase) {
    var plain = enc.encode(text);
    return sealBytes(plain, passphrase).then(function (s) {
      plain.fill(0);
      return s;
    });
  }

  // keyProof is the proof of a secret sealed with sealWithKey.
  function keyProof(key) {
    return proofOf(key, key, false);
  }

  // sealWithKey encrypts plain under a key both sides derived (an answer
  // to a request), without a passphrase: {envelope, proof}. key is the
  // caller's, to wipe.
  function sealWithKey(key, plain) {
    return Promise.all([proofOf(key, key, false), encrypt(key, plain)]).then(function (r) {
      return { envelope: r[1], proof: r[0] };
    });
  }

  // unlock derives what opening a secret needs from a parsed fragment and
  // the passphrase: {proof, ikm}. The caller wipes ikm (open does).
  function unlock(link, passphrase) {
    var withPassphrase = link.passphrase;
    return inputKey(link.key, withPassphrase ? passphrase : "").then(function (ikm) {
      return proofOf(link.key, ikm, withPassphrase).then(function (proof) {
        return { proof: proof, ikm: ikm };
      });
    });
  }

  // looksLikeProof reports whether a passphrase begins as a proof does; the
  // server refuses such a passphrase from a person.
  function looksLikeProof(s) {
    return s.indexOf(PROOF_TAG) === 0;
  }

  // openBytes decrypts an envelope into bytes (the caller wipes them); it
  // rejects when the envelope is damaged or the key is wrong. It wipes ikm.
  function openBytes(envelope, ikm) {
    if (typeof envelope !== "string" || envelope.indexOf(TAG) !== 0) {
      ikm.fill(0);
      return Promise.reject(new Error("not an otsz1 envelope"));
    }
    var body = base85Decode(envelope.slice(TAG.length));
    if (!body || body.length < IV_BYTES + TAG_BYTES) {
      ikm.fill(0);
      return Promise.reject(new Error("damaged envelope"));
    }
    return contentKey(ikm, "decrypt").then(function (k) {
      ikm.fill(0);
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: body.subarray(0, IV_BYTES), additionalData: enc.encode(TAG) },
        k, body.subarray(IV_BYTES));
    }).then(function (plain) {
      return new Uint8Array(plain);
    });
  }

  // open decrypts an envelope of text; it rejects when the envelope is
  // damaged, the key is wrong, or it holds no text.
  function open(envelope, ikm) {
    return openBytes(envelope, ikm).then(function (bytes) {
      try {
        return dec.decode(bytes);
      } finally {
        bytes.fill(0);
      }
    });
  }

  // ---- asking for a secret: ECDH P-256 ----

  var P256 = { name: "ECDH", namedCurve: "P-256" };
  var PUBLIC_BYTES = 65;
  var PRIVATE_BYTES = 32;
  var REQUEST_INFO = enc.encode("otslite zk1 request");
  // The DER of a PKCS #8 P-256 private key without its public key (RFC
  // 5915 makes it optional); the 32-byte scalar follows.
  var PKCS8_HEAD = new Uint8Array([0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20]);

  // requestKeys makes the requester's key pair: {priv (32-byte scalar),
  // pub (65-byte raw point)}. The requester's link carries both (scalar,
  // then public key: 97 bytes, 130 characters). The caller wipes priv.
  function requestKeys() {
    return crypto.subtle.generateKey(P256, true, ["deriveBits"]).then(function (pair) {
      return Promise.all([crypto.subtle.exportKey("raw", pair.publicKey), crypto.subtle.exportKey("jwk", pair.privateKey)]);
    }).then(function (r) {
      var priv = b64urlDecode(r[1].d);
      r[1].d = "";
      if (!priv || priv.length !== PRIVATE_BYTES) throw new Error("unexpected private key");
      return { priv: priv, pub: new Uint8Array(r[0]) };
    });
  }

  // importPrivate makes a CryptoKey of a private key: the 32-byte scalar
  // followed by its 65-byte public key, as the requester's link carries
  // them (a JWK, which every browser imports; the import checks the two
  // belong together), or the scalar alone (PKCS #8 without the public key,
  // which Chromium completes). It resolves to {key, pub}.
  function importPrivate(priv) {
    if (priv instanceof Uint8Array && priv.length === PRIVATE_BYTES + PUBLIC_BYTES && priv[PRIVATE_BYTES] === 4) {
      var pub = priv.slice(PRIVATE_BYTES);
      var jwk = { kty: "EC", crv: "P-256", ext: false, key_ops: ["deriveBits"],
        d: b64urlEncode(priv.subarray(0, PRIVATE_BYTES)), x: b64urlEncode(pub.subarray(1, 33)), y: b64urlEncode(pub.subarray(33)) };
      return crypto.subtle.importKey("jwk", jwk, P256, false, ["deriveBits"]).then(function (key) {
        jwk.d = "";
        return { key: key, pub: pub };
      }, function (e) {
        jwk.d = "";
        throw e;
      });
    }
    if (!(priv instanceof Uint8Array) || priv.length !== PRIVATE_BYTES) return Promise.reject(new Error("not a private key"));
    var der = new Uint8Array(PKCS8_HEAD.length + PRIVATE_BYTES);
    der.set(PKCS8_HEAD, 0);
    der.set(priv, PKCS8_HEAD.length);
    return crypto.subtle.importKey("pkcs8", der, P256, true, ["deriveBits"]).then(function (key) {
      der.fill(0);
      return crypto.subtle.exportKey("jwk", key).then(function (jwk) {
        jwk.d = "";
        var x = b64urlDecode(jwk.x), y = b64urlDecode(jwk.y);
        var pub = new Uint8Array(PUBLIC_BYTES);
        pub[0] = 4;
        pub.set(x, 1);
        pub.set(y, 33);
        return { key: key, pub: pub };
      });
    }, function (e) {
      der.fill(0);
      throw e;
    });
  }

  function importPublic(pub) {
    if (!(pub instanceof Uint8Array) || pub.length !== PUBLIC_BYTES || pub[0] !== 4) return Promise.reject(new Error("not a public key"));
    return crypto.subtle.importKey("raw", pub, P256, false, []);
  }

  // requestKey derives K from ECDH(own private CryptoKey, peer public).
  function requestKey(own, peerPub, requesterPub, answerPub) {
    return importPublic(peerPub).then(function (peer) {
      return crypto.subtle.deriveBits({ name: "ECDH", public: peer }, own, 256);
    }).then(function (bits) {
      var z = new Uint8Array(bits);
      var info = new Uint8Array(REQUEST_INFO.length + 2 * PUBLIC_BYTES);
      info.set(REQUEST_INFO, 0);
      info.set(requesterPub, REQUEST_INFO.length);
      info.set(answerPub, REQUEST_INFO.length + PUBLIC_BYTES);
      return hkdf(z, info, KEY_BYTES).then(function (k) {
        z.fill(0);
        return k;
      });
    });
  }

  // answerKey is the answerer's side: a one-time key pair e, and the key
  // of the answer's envelope: {key, pub (e's public key)}. The caller
  // wipes key.
  function answerKey(requesterPub) {
    return importPublic(requesterPub).then(function () {
      return crypto.subtle.generateKey(P256, true, ["deriveBits"]);
    }).then(function (pair) {
      return crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
        var pub = new Uint8Array(raw);
        return requestKey(pair.privateKey, requesterPub, requesterPub, pub).then(function (key) {
          return { key: key, pub: pub };
        });
      });
    });
  }

  // openAnswerKey is the requester's side: from its private key (as
  // importPrivate takes it) and the answerer's public key, the key of the
  // answer's envelope. The caller wipes it (and priv).
  function openAnswerKey(priv, answerPub) {
    return importPrivate(priv).then(function (own) {
      return requestKey(own.key, answerPub, own.pub, answerPub);
    });
  }

  // publicOf is the public key of a private scalar.
  function publicOf(priv) {
    return importPrivate(priv).then(function (own) { return own.pub; });
  }

  // parseKeyFragment reads a request link's fragment (the requester's
  // public key, 65 bytes in 87 characters) or a requester's link's (the
  // private scalar and the public key, 97 bytes in 130 characters; the
  // scalar alone, 43, is read too): the key's bytes, null for no fragment,
  // false for a damaged one. sizes lists the lengths taken.
  function parseKeyFragment(hash, sizes) {
    if (!hash || hash === "#") return null;
    var s = hash.charAt(0) === "#" ? hash.slice(1) : hash;
    if (!/^[A-Za-z0-9_-]+$/.test(s)) return false;
    var b = b64urlDecode(s);
    if (!b || [].concat(sizes).indexOf(b.length) < 0) return false;
    if (b.length === PUBLIC_BYTES && b[0] !== 4) return false;
    if (b.length === PRIVATE_BYTES + PUBLIC_BYTES && b[PRIVATE_BYTES] !== 4) return false;
    return b;
  }

  window.otsliteZK = Object.freeze({
    available: available,
    parseFragment: parseFragment,
    looksLikeProof: looksLikeProof,
    envelopeLength: envelopeLength,
    maxPlain: maxPlain,
    seal: seal,
    sealBytes: sealBytes,
    sealWithKey: sealWithKey,
    keyProof: keyProof,
    unlock: unlock,
    open: open,
    openBytes: openBytes,
    requestKeys: requestKeys,
    answerKey: answerKey,
    openAnswerKey: openAnswerKey,
    publicOf: publicOf,
    parseKeyFragment: parseKeyFragment,
    PUBLIC_BYTES: PUBLIC_BYTES,
    PRIVATE_BYTES: PRIVATE_BYTES,
    base85Encode: base85Encode,
    base85Decode: base85Decode,
    b64urlEncode: b64urlEncode,
    b64urlDecode: b64urlDecode
  });
})();
