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

  function base85Encode(bytes) {
    var out = [];
    for (var i = 0; i < bytes.length; i += 4) {
      var k = Math.min(4, bytes.length - i);
      var v = 0;
      for (var j = 0; j < 4; j++) v = v * 256 + (j < k ? bytes[i + j] : 0);
      var group = [];
      for (j = 0; j < 5; j++) {
        group.unshift(Z85.charAt(v % 85));
        v = Math.floor(v / 85);
      }
      out.push(group.slice(0, k + 1).join(""));
    }
    return out.join("");
  }

  function base85Decode(s) {
    var n = Math.floor(s.length / 5) * 4 + (s.length % 5 ? s.length % 5 - 1 : 0);
    if (s.length % 5 === 1) return null;
    var out = new Uint8Array(n);
    var o = 0;
    for (var i = 0; i < s.length; i += 5) {
      var m = Math.min(5, s.length - i);
      var v = 0;
      for (var j = 0; j < 5; j++) {
        var d = j < m ? Z85.indexOf(s.charAt(i + j)) : 84;
        if (d < 0) return null;
        v = v * 85 + d;
      }
      if (v > 0xffffffff) return null;
      for (j = 0; j < m - 1; j++) {
        out[o++] = Math.floor(v / Math.pow(256, 3 - j)) % 256;
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

  function hkdf(ikm, info, bytes) {
    return crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]).then(function (k) {
      return crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(info) }, k, bytes * 8);
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

  // envelopeLength is the length of the envelope of n bytes of text.
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

  // seal encrypts text for a new secret. It resolves to {envelope, proof,
  // fragment}.
  function seal(text, passphrase) {
    var key = randomBytes(KEY_BYTES);
    var fragment = "1" + (passphrase ? "p" : "n") + b64urlEncode(key);
    return inputKey(key, passphrase).then(function (ikm) {
      return Promise.all([proofOf(key, ikm, !!passphrase), contentKey(ikm, "encrypt")]).then(function (r) {
        key.fill(0);
        ikm.fill(0);
        var iv = randomBytes(IV_BYTES);
        var plain = enc.encode(text);
        return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: enc.encode(TAG) }, r[1], plain).then(function (ct) {
          plain.fill(0);
          var body = new Uint8Array(IV_BYTES + ct.byteLength);
          body.set(iv, 0);
          body.set(new Uint8Array(ct), IV_BYTES);
          return { envelope: TAG + base85Encode(body), proof: r[0], fragment: fragment };
        });
      });
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

  // open decrypts an envelope; it rejects when the envelope is damaged or
  // the key is wrong.
  function open(envelope, ikm) {
    if (typeof envelope !== "string" || envelope.indexOf(TAG) !== 0) {
      return Promise.reject(new Error("not an otsz1 envelope"));
    }
    var body = base85Decode(envelope.slice(TAG.length));
    if (!body || body.length < IV_BYTES + TAG_BYTES) {
      return Promise.reject(new Error("damaged envelope"));
    }
    return contentKey(ikm, "decrypt").then(function (k) {
      ikm.fill(0);
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: body.slice(0, IV_BYTES), additionalData: enc.encode(TAG) },
        k, body.slice(IV_BYTES));
    }).then(function (plain) {
      var bytes = new Uint8Array(plain);
      var text = dec.decode(bytes);
      bytes.fill(0);
      return text;
    });
  }

  window.otsliteZK = Object.freeze({
    available: available,
    parseFragment: parseFragment,
    looksLikeProof: looksLikeProof,
    envelopeLength: envelopeLength,
    maxPlain: maxPlain,
    seal: seal,
    unlock: unlock,
    open: open,
    base85Encode: base85Encode,
    base85Decode: base85Decode,
    b64urlEncode: b64urlEncode,
    b64urlDecode: b64urlDecode
  });
})();
