// otslite UI: k-of-n splitting (Shamir's scheme) over GF(2^8), the field
// of AES (x^8 + x^4 + x^3 + x + 1, 0x11B), byte by byte; store/shamir is
// the same in Go.
//
// For each byte s of the secret a polynomial of degree k-1 is drawn, with
// s as its constant term and k-1 coefficients from the browser's CSPRNG;
// share i holds its values at x = i (1..n). Any k shares with distinct x
// rebuild each byte by Lagrange interpolation at 0. Fewer than k tell
// nothing: for every value of the byte, the same number of polynomials
// give the shares seen.
//
// Arithmetic touches secret bytes only through shifts, masks and XOR
// (no table indexed by a secret byte, no branch on one), four bytes at a
// time in 32-bit words; the multipliers are public (an x, or a Lagrange
// coefficient made of x values). Coefficients are drawn for at most
// CHUNK bytes of the secret at once, coefficient d (1..k-1) of byte j of a
// chunk of m bytes being random byte (d-1)·m + j, as store/shamir draws
// them; each chunk's are wiped once used.
"use strict";

(function () {
  var CHUNK = 64 << 10;
  var LANES = 0x01010101;

  // mul multiplies in GF(2^8), without tables or branches on its inputs.
  function mul(a, b) {
    var p = 0;
    for (var i = 0; i < 8; i++) {
      p ^= -(b & 1) & a;
      a = ((a << 1) ^ (0x1b & -(a >> 7))) & 0xff;
      b >>= 1;
    }
    return p & 0xff;
  }

  // inv is the inverse of a non-zero a: a^254.
  function inv(a) {
    var r = 1, sq = a;
    for (var i = 0; i < 7; i++) {
      sq = mul(sq, sq);
      r = mul(r, sq);
    }
    return r;
  }

  // byConst prepares multiplying four bytes at once by the public c:
  // t[i] holds c·2^i in every byte of a word.
  function byConst(c) {
    var t = new Int32Array(8);
    for (var i = 0; i < 8; i++) {
      t[i] = Math.imul(c, LANES);
      c = mul(c, 2);
    }
    return t;
  }

  // mulWord multiplies each byte of w by c, given t = byConst(c).
  function mulWord(w, t0, t1, t2, t3, t4, t5, t6, t7) {
    return (Math.imul(w & LANES, 0xff) & t0) ^
      (Math.imul((w >>> 1) & LANES, 0xff) & t1) ^
      (Math.imul((w >>> 2) & LANES, 0xff) & t2) ^
      (Math.imul((w >>> 3) & LANES, 0xff) & t3) ^
      (Math.imul((w >>> 4) & LANES, 0xff) & t4) ^
      (Math.imul((w >>> 5) & LANES, 0xff) & t5) ^
      (Math.imul((w >>> 6) & LANES, 0xff) & t6) ^
      (Math.imul((w >>> 7) & LANES, 0xff) & t7);
  }

  // hornerStep sets y[j] = y[j]·c ^ add[j] for every word j, c being the
  // constant of t.
  function hornerStep(t, y, add) {
    var t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7];
    for (var j = 0, n = y.length; j < n; j++) y[j] = mulWord(y[j], t0, t1, t2, t3, t4, t5, t6, t7) ^ add[j];
  }

  // addScaled sets y[j] ^= src[j]·c for every word j.
  function addScaled(t, y, src) {
    var t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7];
    for (var j = 0, n = y.length; j < n; j++) y[j] ^= mulWord(src[j], t0, t1, t2, t3, t4, t5, t6, t7);
  }

  function words(n) {
    return (n + 3) >> 2;
  }

  // wordsOf is a word view of bytes (copied into a buffer padded to whole
  // words when it is not one already); wipe it when it is a copy.
  function wordsOf(bytes) {
    if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) {
      return { w: new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2), copy: null };
    }
    var pad = new Uint8Array(words(bytes.length) * 4);
    pad.set(bytes);
    return { w: new Uint32Array(pad.buffer), copy: pad };
  }

  function cryptoRandom(buf) {
    for (var i = 0; i < buf.length; i += 65536) {
      crypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)));
    }
  }

  // split makes the n shares of secret (bytes) for threshold k: share i
  // (0-based) is the values at x = i + 1, as many bytes as the secret.
  // rand(buf) fills buf with random bytes (default: the CSPRNG; tests give
  // the coefficients of published vectors). The caller wipes the shares.
  function split(secret, k, n, rand) {
    if (!(k >= 2 && n >= k && n <= 255 && secret.length > 0)) throw new Error("shamir: need 2 <= k <= n <= 255 and a secret");
    rand = rand || cryptoRandom;
    var len = secret.length;
    var padded = words(len) * 4;
    var sec = wordsOf(secret);
    var outBufs = [], outW = [], xs = [];
    for (var i = 0; i < n; i++) {
      var b = new Uint8Array(padded);
      outBufs.push(b);
      outW.push(new Uint32Array(b.buffer));
      xs.push(byConst(i + 1));
    }
    var chunk = Math.min(CHUNK, len);
    var coef = new Uint8Array((k - 1) * chunk);
    var cw = new Uint8Array(words(chunk) * 4 * (k - 1));
    for (var off = 0; off < len; off += chunk) {
      var m = Math.min(chunk, len - off);
      var mw = words(m);
      var c = coef.subarray(0, (k - 1) * m);
      rand(c);
      // Coefficient d of this chunk, laid out in whole words.
      var cWords = new Uint32Array(cw.buffer, 0, mw * (k - 1));
      cw.fill(0);
      for (var d = 1; d < k; d++) cw.set(c.subarray((d - 1) * m, d * m), (d - 1) * mw * 4);
      var w0 = off >> 2; // off is a multiple of CHUNK, so of 4
      var secret4 = sec.w.subarray(w0, w0 + mw);
      for (i = 0; i < n; i++) {
        // Horner from the highest coefficient down to the secret byte.
        var y = outW[i].subarray(w0, w0 + mw), t = xs[i];
        y.set(cWords.subarray((k - 2) * mw, (k - 1) * mw));
        for (d = k - 2; d >= 1; d--) hornerStep(t, y, cWords.subarray((d - 1) * mw, d * mw));
        hornerStep(t, y, secret4);
      }
      c.fill(0);
      cw.fill(0);
    }
    if (sec.copy) sec.copy.fill(0);
    return outBufs.map(function (b) { return b.subarray(0, len); });
  }

  // combine rebuilds the secret from shares (bytes, all one length) whose
  // x values are xs (distinct, 1..255). Any k shares of one split rebuild
  // it; other shares give other bytes. The caller wipes the result.
  function combine(xs, shares) {
    if (xs.length !== shares.length || shares.length === 0 || shares.length > 255) throw new Error("shamir: one x per share");
    var len = shares[0].length;
    xs.forEach(function (x, i) {
      if (!(x >= 1 && x <= 255) || shares[i].length !== len || len === 0 || xs.indexOf(x) !== i) throw new Error("shamir: shares of one length with distinct x");
    });
    var out = new Uint8Array(words(len) * 4);
    var ow = new Uint32Array(out.buffer);
    for (var j = 0; j < xs.length; j++) {
      // The Lagrange basis at 0: the product over m != j of x_m / (x_m - x_j).
      var l = 1;
      for (var m = 0; m < xs.length; m++) {
        if (m !== j) l = mul(l, mul(xs[m], inv(xs[m] ^ xs[j])));
      }
      var t = byConst(l);
      var s = wordsOf(shares[j]);
      addScaled(t, ow, s.w);
      if (s.copy) s.copy.fill(0);
    }
    return out.subarray(0, len);
  }

  window.otsliteShamir = Object.freeze({ split: split, combine: combine, mul: mul });
})();
