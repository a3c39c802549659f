// otslite UI: a QR code encoder (ISO/IEC 18004), small on purpose: byte
// mode, error correction level M, versions 1 to 10 (up to 213 bytes, far
// more than a secret link needs). It runs in the browser so the link's
// fragment, which holds the key, never leaves it. Drawn as SVG.
"use strict";

(function () {
  // Error correction level M, versions 1..10: [ec codewords per block,
  // blocks in group 1, data codewords each, blocks in group 2, data each].
  var BLOCKS = [null,
    [10, 1, 16, 0, 0], [16, 1, 28, 0, 0], [26, 1, 44, 0, 0], [18, 2, 32, 0, 0],
    [24, 2, 43, 0, 0], [16, 4, 27, 0, 0], [18, 4, 31, 0, 0], [22, 2, 38, 2, 39],
    [22, 3, 36, 2, 37], [26, 4, 43, 1, 44]];
  // Centres of the alignment patterns, per version.
  var ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
    [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];
  var LEVEL_M = 0; // the two format bits of level M

  // ---- GF(256), primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 ----
  var EXP = new Uint8Array(512);
  var LOG = new Uint8Array(256);
  (function () {
    var x = 1;
    for (var i = 0; i < 255; i++) {
      EXP[i] = x;
      LOG[x] = i;
      x <<= 1;
      if (x & 0x100) x ^= 0x11d;
    }
    for (i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  })();

  function mul(a, b) {
    return a && b ? EXP[LOG[a] + LOG[b]] : 0;
  }

  // generator returns the coefficients (highest degree first, leading 1
  // dropped) of prod (x - a^i), i < n.
  function generator(n) {
    var g = [1];
    for (var i = 0; i < n; i++) {
      var next = new Array(g.length + 1).fill(0);
      for (var j = 0; j < g.length; j++) {
        next[j] ^= g[j];
        next[j + 1] ^= mul(g[j], EXP[i]);
      }
      g = next;
    }
    return g.slice(1);
  }

  // ecc returns the n Reed-Solomon check codewords of data.
  function ecc(data, n) {
    var g = generator(n);
    var rem = new Array(n).fill(0);
    data.forEach(function (d) {
      var factor = d ^ rem.shift();
      rem.push(0);
      for (var i = 0; i < n; i++) rem[i] ^= mul(g[i], factor);
    });
    return rem;
  }

  // ---- data codewords ----

  function dataCapacity(v) {
    var b = BLOCKS[v];
    return b[1] * b[2] + b[3] * b[4];
  }

  function chooseVersion(n) {
    for (var v = 1; v < BLOCKS.length; v++) {
      var countBits = v < 10 ? 8 : 16;
      if (4 + countBits + 8 * n <= 8 * dataCapacity(v)) return v;
    }
    return 0;
  }

  function codewords(bytes, v) {
    var bits = [];
    function put(value, n) {
      for (var i = n - 1; i >= 0; i--) bits.push(value >>> i & 1);
    }
    var cap = dataCapacity(v);
    put(4, 4); // byte mode
    put(bytes.length, v < 10 ? 8 : 16);
    bytes.forEach(function (b) { put(b, 8); });
    put(0, Math.min(4, cap * 8 - bits.length)); // terminator
    put(0, (8 - bits.length % 8) % 8);
    var data = [];
    for (var i = 0; i < bits.length; i += 8) {
      var c = 0;
      for (var j = 0; j < 8; j++) c = c << 1 | bits[i + j];
      data.push(c);
    }
    for (var pad = 0xec; data.length < cap; pad ^= 0xec ^ 0x11) data.push(pad);

    // Split into blocks, add error correction, interleave.
    var b = BLOCKS[v];
    var blocks = [];
    var at = 0;
    for (i = 0; i < b[1] + b[3]; i++) {
      var len = i < b[1] ? b[2] : b[4];
      var d = data.slice(at, at + len);
      at += len;
      blocks.push({ data: d, ecc: ecc(d, b[0]) });
    }
    var out = [];
    var longest = Math.max(b[2], b[4]);
    for (i = 0; i < longest; i++) {
      blocks.forEach(function (bl) { if (i < bl.data.length) out.push(bl.data[i]); });
    }
    for (i = 0; i < b[0]; i++) {
      blocks.forEach(function (bl) { out.push(bl.ecc[i]); });
    }
    return out;
  }

  // ---- the matrix ----

  function Matrix(v) {
    this.size = 17 + 4 * v;
    this.dark = [];
    this.fixed = [];
    for (var i = 0; i < this.size; i++) {
      this.dark.push(new Array(this.size).fill(false));
      this.fixed.push(new Array(this.size).fill(false));
    }
  }
  Matrix.prototype.set = function (x, y, dark) {
    this.dark[y][x] = dark;
    this.fixed[y][x] = true;
  };

  function drawFunctionPatterns(m, v) {
    var n = m.size;
    for (var i = 0; i < n; i++) { // timing patterns
      m.set(6, i, i % 2 === 0);
      m.set(i, 6, i % 2 === 0);
    }
    [[3, 3], [n - 4, 3], [3, n - 4]].forEach(function (c) { // finders and separators
      for (var dy = -4; dy <= 4; dy++) {
        for (var dx = -4; dx <= 4; dx++) {
          var x = c[0] + dx, y = c[1] + dy;
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          var d = Math.max(Math.abs(dx), Math.abs(dy));
          m.set(x, y, d !== 2 && d !== 4);
        }
      }
    });
    var pos = ALIGN[v];
    pos.forEach(function (cy, i) {
      pos.forEach(function (cx, j) {
        var corner = (i === 0 && j === 0) || (i === 0 && j === pos.length - 1) || (i === pos.length - 1 && j === 0);
        if (corner) return;
        for (var dy = -2; dy <= 2; dy++) {
          for (var dx = -2; dx <= 2; dx++) {
            m.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
          }
        }
      });
    });
    drawFormat(m, 0); // reserve the format areas; redrawn with the mask
    if (v >= 7) {
      var rem = v;
      for (i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
      var bits = v << 12 | rem;
      for (i = 0; i < 18; i++) {
        var bit = (bits >>> i & 1) === 1;
        var a = n - 11 + i % 3, b = Math.floor(i / 3);
        m.set(a, b, bit);
        m.set(b, a, bit);
      }
    }
  }

  function drawFormat(m, mask) {
    var n = m.size;
    var data = LEVEL_M << 3 | mask;
    var rem = data;
    for (var i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    var bits = (data << 10 | rem) ^ 0x5412;
    function bit(i) { return (bits >>> i & 1) === 1; }
    for (i = 0; i <= 5; i++) m.set(8, i, bit(i));
    m.set(8, 7, bit(6));
    m.set(8, 8, bit(7));
    m.set(7, 8, bit(8));
    for (i = 9; i < 15; i++) m.set(14 - i, 8, bit(i));
    for (i = 0; i < 8; i++) m.set(n - 1 - i, 8, bit(i));
    for (i = 8; i < 15; i++) m.set(8, n - 15 + i, bit(i));
    m.set(8, n - 8, true); // the dark module
  }

  function drawData(m, cw) {
    var n = m.size;
    var i = 0;
    var total = cw.length * 8;
    for (var right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      var upward = ((right + 1) & 2) === 0;
      for (var vert = 0; vert < n; vert++) {
        var y = upward ? n - 1 - vert : vert;
        for (var j = 0; j < 2; j++) {
          var x = right - j;
          if (m.fixed[y][x]) continue;
          m.dark[y][x] = i < total && (cw[i >>> 3] >>> (7 - (i & 7)) & 1) === 1;
          i++;
        }
      }
    }
  }

  var MASKS = [
    function (x, y) { return (x + y) % 2 === 0; },
    function (x, y) { return y % 2 === 0; },
    function (x) { return x % 3 === 0; },
    function (x, y) { return (x + y) % 3 === 0; },
    function (x, y) { return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0; },
    function (x, y) { return x * y % 2 + x * y % 3 === 0; },
    function (x, y) { return (x * y % 2 + x * y % 3) % 2 === 0; },
    function (x, y) { return ((x + y) % 2 + x * y % 3) % 2 === 0; }
  ];

  function applyMask(m, k) {
    for (var y = 0; y < m.size; y++) {
      for (var x = 0; x < m.size; x++) {
        if (!m.fixed[y][x] && MASKS[k](x, y)) m.dark[y][x] = !m.dark[y][x];
      }
    }
  }

  // penalty scores a finished matrix by the four rules of the standard.
  function penalty(m) {
    var n = m.size, score = 0, darkCount = 0;
    function line(get) {
      var s = 0, run = 1;
      var seq = [];
      for (var i = 0; i < n; i++) seq.push(get(i) ? 1 : 0);
      for (i = 1; i <= n; i++) {
        if (i < n && seq[i] === seq[i - 1]) {
          run++;
        } else {
          if (run >= 5) s += run - 2;
          run = 1;
        }
      }
      var str = seq.join("");
      [/(?=10111010000)/g, /(?=00001011101)/g].forEach(function (re) {
        s += 40 * (str.match(re) || []).length;
      });
      return s;
    }
    for (var i = 0; i < n; i++) {
      score += line(function (x) { return m.dark[i][x]; });
      score += line(function (y) { return m.dark[y][i]; });
    }
    for (var y = 0; y < n; y++) {
      for (var x = 0; x < n; x++) {
        var d = m.dark[y][x];
        if (d) darkCount++;
        if (x < n - 1 && y < n - 1 && d === m.dark[y][x + 1] && d === m.dark[y + 1][x] && d === m.dark[y + 1][x + 1]) score += 3;
      }
    }
    score += 10 * Math.floor(Math.abs(darkCount * 20 - n * n * 10) / (n * n));
    return score;
  }

  // encode returns the module matrix (rows of booleans, true = dark) of
  // text's UTF-8 bytes, or null when it is too long.
  function encode(text) {
    var bytes = Array.from(new TextEncoder().encode(text));
    var v = chooseVersion(bytes.length);
    if (!v) return null;
    var cw = codewords(bytes, v);
    var best = null, bestScore = Infinity;
    for (var k = 0; k < 8; k++) {
      var m = new Matrix(v);
      drawFunctionPatterns(m, v);
      drawData(m, cw);
      applyMask(m, k);
      drawFormat(m, k);
      var s = penalty(m);
      if (s < bestScore) {
        best = m;
        bestScore = s;
      }
    }
    return best.dark;
  }

  // draw replaces el's content with an SVG of text's QR code, dark on
  // light whatever the theme, with the standard four-module quiet zone.
  function draw(el, text) {
    var rows = encode(text);
    el.textContent = "";
    if (!rows) return false;
    var ns = "http://www.w3.org/2000/svg";
    var n = rows.length, q = 4;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + (n + 2 * q) + " " + (n + 2 * q));
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", "100%");
    bg.setAttribute("height", "100%");
    bg.setAttribute("fill", "#fff");
    svg.appendChild(bg);
    var d = [];
    rows.forEach(function (row, y) {
      row.forEach(function (dark, x) {
        if (dark) d.push("M" + (x + q) + " " + (y + q) + "h1v1h-1z");
      });
    });
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d.join(""));
    path.setAttribute("fill", "#000");
    svg.appendChild(path);
    el.appendChild(svg);
    return true;
  }

  window.otsliteQR = Object.freeze({ encode: encode, draw: draw });
})();
