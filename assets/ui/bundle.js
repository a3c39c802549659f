// otslite UI: what an envelope holds when it is more than text (README
// "Files, several links, split secrets and requests"; store/envelope's
// bundle.go reads and writes the same). The plaintext an envelope seals is
// UTF-8 text, or a bundle:
//
//   0x00 0x01 || uint32 big-endian header length || header || payload
//
// header is a UTF-8 JSON object:
//
//   {"text": <bytes of text in the payload, 0 when none>,
//    "files": [{"name": <file name>, "type": <MIME type or "">, "size": <bytes>}, ...],
//    "share": {"k": K, "n": N, "x": X, "id": <16 random bytes, base64url>}}
//
// payload is the text, then each file's bytes in order; for a share of a
// split secret (shamir.js) the share's y bytes, with neither text nor
// files. A reader refuses a bundle of another version, one whose sizes do
// not add up exactly, and file names that are empty, longer than 255 bytes,
// or hold '/', '\', a control character, or are "." or ".."; this writer
// never makes one (cleanName).
//
// Memory: file contents are Uint8Arrays the caller wipes (fill(0)); a
// parsed bundle's parts are views into the plaintext, wiped with it.
"use strict";

(function () {
  var MAGIC = 0x00;
  var VERSION = 0x01;
  var HEAD = 6;
  var MAX_HEADER = 32 << 10;
  var MAX_FILES = 100;
  var MAX_NAME = 255;
  var MAX_TYPE = 255;
  var MAX_SHARES = 255;
  var ID_BYTES = 16;
  var enc = new TextEncoder();
  var dec = new TextDecoder("utf-8", { fatal: true });

  // BundleError says why a bundle cannot be read: code is "version" (a
  // newer format), "name" (a file name no one may use) or "damaged".
  function BundleError(code) {
    this.name = "BundleError";
    this.code = code;
    this.message = "bundle: " + code;
  }
  BundleError.prototype = Object.create(Error.prototype);

  function isBundle(plain) {
    return plain.length > 0 && plain[0] === MAGIC;
  }

  // badChar matches what no file name may hold: '/', '\', C0 and C1
  // control characters and DEL.
  var badChar = /[\/\\\u0000-\u001f\u007f-\u009f]/;

  function validName(name) {
    if (typeof name !== "string" || name === "" || name === "." || name === "..") return false;
    if (badChar.test(name) || /[\ud800-\udfff]/.test(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ""))) return false;
    return enc.encode(name).length <= MAX_NAME;
  }

  function validType(type) {
    return typeof type === "string" && !/[\u0000-\u001f\u007f-\u009f]/.test(type) &&
      !/[\ud800-\udfff]/.test(type.replace(/[\ud800-\udbff][\udc00-\udfff]/g, "")) && enc.encode(type).length <= MAX_TYPE;
  }

  // cleanName makes a name every reader takes: what may not be in a name
  // becomes "_", and a name too long loses characters before its
  // extension. Downloads use it too, on names a reader took.
  function cleanName(name) {
    var s = String(name || "").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/g, "$1_");
    s = s.replace(/[\/\\\u0000-\u001f\u007f-\u009f]/g, "_");
    if (s === "" || s === "." || s === "..") s = "_" + s;
    while (enc.encode(s).length > MAX_NAME) {
      var dot = s.lastIndexOf(".");
      var ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : "";
      var stem = Array.from(s.slice(0, s.length - ext.length));
      stem.pop();
      s = stem.join("") + ext;
    }
    return s;
  }

  function cleanType(type) {
    var t = String(type || "");
    return validType(t) ? t : "";
  }

  function bytesOf(v) {
    if (!v) return new Uint8Array(0);
    return v instanceof Uint8Array ? v : new Uint8Array(v);
  }

  // write makes a bundle: b is {text (bytes of UTF-8, or null), files:
  // [{name, type, data}]} or {share: {k, n, x, id (16 bytes)}, payload}.
  // The result is a new Uint8Array the caller wipes.
  function write(b) {
    var header, parts;
    if (b.share) {
      var s = b.share;
      var y = bytesOf(b.payload);
      if (!(s.k >= 2 && s.n >= s.k && s.n <= MAX_SHARES && s.x >= 1 && s.x <= MAX_SHARES && s.id && s.id.length === ID_BYTES && y.length > 0)) {
        throw new BundleError("damaged");
      }
      header = { text: 0, files: [], share: { k: s.k, n: s.n, x: s.x, id: window.otsliteZK.b64urlEncode(s.id) } };
      parts = [y];
    } else {
      var text = bytesOf(b.text);
      var files = b.files || [];
      if (files.length > MAX_FILES) throw new BundleError("damaged");
      header = { text: text.length, files: [] };
      parts = [text];
      files.forEach(function (f) {
        if (!validName(f.name)) throw new BundleError("name");
        if (!validType(f.type || "")) throw new BundleError("damaged");
        var data = bytesOf(f.data);
        header.files.push({ name: f.name, type: f.type || "", size: data.length });
        parts.push(data);
      });
    }
    var h = enc.encode(JSON.stringify(header));
    if (h.length > MAX_HEADER) throw new BundleError("damaged");
    var total = HEAD + h.length;
    parts.forEach(function (p) { total += p.length; });
    var out = new Uint8Array(total);
    out[0] = MAGIC;
    out[1] = VERSION;
    new DataView(out.buffer).setUint32(2, h.length, false);
    out.set(h, HEAD);
    var at = HEAD + h.length;
    parts.forEach(function (p) {
      out.set(p, at);
      at += p.length;
    });
    return out;
  }

  function isSize(v) {
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 9007199254740992;
  }

  // parse reads a bundle: {text (string), files: [{name, type, data}],
  // share: null or {k, n, x, id (bytes), idText}, payload}. data and
  // payload are views into plain. It throws a BundleError.
  function parse(plain) {
    if (!isBundle(plain)) throw new BundleError("damaged");
    if (plain.length >= 2 && plain[1] !== VERSION) throw new BundleError("version");
    if (plain.length < HEAD) throw new BundleError("damaged");
    var hl = new DataView(plain.buffer, plain.byteOffset, plain.byteLength).getUint32(2, false);
    if (hl > MAX_HEADER || hl > plain.length - HEAD) throw new BundleError("damaged");
    var h;
    try {
      h = JSON.parse(dec.decode(plain.subarray(HEAD, HEAD + hl)));
    } catch (e) {
      throw new BundleError("damaged");
    }
    if (!h || typeof h !== "object" || Array.isArray(h)) throw new BundleError("damaged");
    var payload = plain.subarray(HEAD + hl);
    var textLen = h.text === undefined ? 0 : h.text;
    var files = h.files === undefined ? [] : h.files;
    if (!isSize(textLen) || !Array.isArray(files) || files.length > MAX_FILES) throw new BundleError("damaged");
    if (h.share !== undefined) {
      var s = h.share;
      var id = s && typeof s.id === "string" && s.id.length === 22 ? window.otsliteZK.b64urlDecode(s.id) : null;
      if (!s || typeof s !== "object" || !isSize(s.k) || !isSize(s.n) || !isSize(s.x) || !id || id.length !== ID_BYTES ||
        s.k < 2 || s.n < s.k || s.n > MAX_SHARES || s.x < 1 || s.x > MAX_SHARES ||
        textLen !== 0 || files.length !== 0 || payload.length === 0) {
        throw new BundleError("damaged");
      }
      return { text: "", files: [], share: { k: s.k, n: s.n, x: s.x, id: id, idText: s.id }, payload: payload };
    }
    var total = textLen;
    var out = [];
    files.forEach(function (f) {
      if (!f || typeof f !== "object" || !isSize(f.size)) throw new BundleError("damaged");
      if (!validName(f.name)) throw new BundleError("name");
      var type = f.type === undefined ? "" : f.type;
      if (!validType(type)) throw new BundleError("damaged");
      total += f.size;
      out.push({ name: f.name, type: type, size: f.size });
    });
    if (total !== payload.length) throw new BundleError("damaged");
    var text;
    try {
      text = dec.decode(payload.subarray(0, textLen));
    } catch (e) {
      throw new BundleError("damaged");
    }
    var at = textLen;
    out.forEach(function (f) {
      f.data = payload.subarray(at, at + f.size);
      at += f.size;
    });
    return { text: text, files: out, share: null, payload: null };
  }

  window.otsliteBundle = Object.freeze({
    isBundle: isBundle,
    write: write,
    parse: parse,
    validName: validName,
    cleanName: cleanName,
    cleanType: cleanType,
    BundleError: BundleError,
    MAX_FILES: MAX_FILES,
    ID_BYTES: ID_BYTES
  });
})();
