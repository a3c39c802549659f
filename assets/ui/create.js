// otslite UI, create page (/): encrypt a secret in the browser and share
// its link. Where the browser cannot encrypt (no secure context: plain HTTP
// to another machine), the page says so, makes no claim of encryption, and
// sends the text as the v1 API takes it only once the sender has ticked a
// box that names the risk. Where the server needs a create token, the page
// asks for it first and keeps it for this tab only.
//
// Beyond one text for one person (only where the browser encrypts): files
// beside the text (files.js, bundle.js), up to the server's cap, shown
// before anything is read; a link for each of several recipients (the same
// contents sealed under independent keys, each its own secret, gathered
// under one group receipt); and a split into n parts of which any k
// rebuild it (shamir.js), each part its own secret, gathered the same way.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var qr = window.otsliteQR;
  var B = window.otsliteBundle;
  var S = window.otsliteShamir;
  var T = o.T;
  var fill = o.fill;
  var $ = o.$;
  var show = o.show;

  // Expiry choices, seconds. The default is one hour, or the longest the
  // server allows when that is less; longer choices than the server allows
  // (its max ttl, or what is left of its session) are never offered.
  var TTL_CHOICES = [300, 3600, 14400, 86400, 259200, 604800];
  var DEFAULT_TTL = 3600;

  // The counter counts characters, and shows bytes (what the limit counts)
  // once the text uses this share of the limit.
  var NEAR_LIMIT = 0.8;

  // Generated passwords: no look-alike characters (i l o 1 I O 0), at
  // least one of each class.
  var CLASSES = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghjkmnpqrstuvwxyz", "23456789", "!#$%&*+-=?@^_~"];
  var GENERATED_LENGTH = 20;

  // Credentials: what the server accepts (printable ASCII, no spaces; no
  // ":" or "," in the user name, no "," in the token).
  var USER_RE = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]{1,128}$/;
  var TOKEN_RE = /^[\x21-\x2b\x2d-\x7e]{1,256}$/;

  var form = $("create-form");
  var secret = $("secret");
  var counter = $("secret-count");
  var pass = $("passphrase");
  var ttl = $("ttl");
  var createButton = $("create");
  var result = $("result");
  var tokenForm = $("token-form");
  var plainOK = $("plain-ok");
  var encrypt = zk.available();
  var cfg = null;
  var cred = null;
  var files = window.otsliteFiles.picker(form, function () { return o.utf8Length(secret.value); }, function () {
    updateCounter();
  });

  // SHARE_ROOM is what a part's bundle adds around its share (6 bytes of
  // framing and a header of some 80).
  var SHARE_ROOM = 160;

  // limit is the most bytes of text this page can send alone: what the
  // server takes, less the envelope's overhead when encrypting (and a
  // part's bundle when splitting).
  function limit() {
    var max = cfg ? cfg.max_secret_size : 0;
    if (!max) return 0;
    if (!encrypt) return max;
    if (shape().kind === "split") return Math.max(0, zk.maxPlain(Math.max(max, cfg.max_envelope_size)) - SHARE_ROOM);
    return zk.maxPlain(max);
  }

  // ---- how many links ----

  function numberIn(id, lo, hi) {
    var v = parseInt($(id).value, 10);
    return v >= lo && v <= hi ? v : NaN;
  }

  // shape is what the sender chose: {kind: "one"}, {kind: "many", n} or
  // {kind: "split", k, n}; n or k is NaN when out of bounds.
  function shape() {
    var max = cfg && cfg.max_links >= 2 ? cfg.max_links : 20;
    if ($("shape-many").checked && encrypt) return { kind: "many", n: numberIn("links-n", 2, max) };
    if ($("shape-split").checked && encrypt) {
      var n = numberIn("split-n", 2, max);
      var k = numberIn("split-k", 2, max);
      return { kind: "split", n: n, k: k <= n ? k : NaN };
    }
    return { kind: "one" };
  }

  function updateShape() {
    var sh = shape();
    show($("many-opts"), sh.kind === "many");
    show($("split-opts"), sh.kind === "split");
    var now = T("shapeOne");
    if (sh.kind === "many" && sh.n) now = o.P("shapeMany", sh.n);
    if (sh.kind === "split" && sh.n && sh.k) now = o.P("shapeSplit", sh.n, { k: o.formatNumber(sh.k) });
    $("shape-now").textContent = now;
    updateCounter();
  }

  function updateCounter() {
    var used = o.utf8Length(secret.value);
    var max = files.files() ? 0 : limit();
    var over = max > 0 && used > max;
    if (max > 0 && used >= max * NEAR_LIMIT) {
      counter.textContent = fill(T("byteCount"), { used: o.formatNumber(used), max: o.formatBytes(max) });
    } else {
      counter.textContent = o.P("chars", o.codePoints(secret.value));
    }
    counter.classList.toggle("over", over);
    secret.setAttribute("aria-invalid", over ? "true" : "false");
  }

  function buildTTLs() {
    var max = cfg && cfg.max_ttl >= 1 ? cfg.max_ttl : 604800;
    var choices = TTL_CHOICES.filter(function (t) { return t <= max; });
    if (choices.indexOf(max) < 0) choices.push(max);
    var selected = choices.indexOf(DEFAULT_TTL) >= 0 ? DEFAULT_TTL : choices[choices.length - 1];
    var previous = parseInt(ttl.value, 10);
    if (choices.indexOf(previous) >= 0 && ttl.options.length) selected = previous;
    ttl.textContent = "";
    choices.forEach(function (t) {
      var opt = document.createElement("option");
      opt.value = String(t);
      opt.textContent = o.formatDuration(t);
      opt.defaultSelected = opt.selected = t === selected; // survives form.reset()
      ttl.appendChild(opt);
    });
    updateSessionNote();
  }

  // The session note says when the server's session ends, if a secret made
  // with the chosen expiry would still be waiting then.
  function updateSessionNote() {
    var text = o.sessionNote(cfg, o.nowSeconds() + (parseInt(ttl.value, 10) || 0));
    $("session-note").textContent = text;
    show($("session-note"), text !== "");
  }

  function checkPassphrase() {
    var n = o.codePoints(pass.value);
    if (n === 0) return true;
    if (cfg.passphrase_min && n < cfg.passphrase_min) {
      o.showError(fill(T("passphraseShort"), { min: cfg.passphrase_min }));
    } else if (cfg.passphrase_max && n > cfg.passphrase_max) {
      o.showError(fill(T("passphraseLong"), { max: cfg.passphrase_max }));
    } else if (!encrypt && zk.looksLikeProof(pass.value)) {
      o.showError(T("passphraseZk")); // sent as typed, the server would refuse it
    } else {
      return true;
    }
    pass.focus();
    return false;
  }

  function randomIndex(n) {
    // Rejection sampling keeps every character equally likely.
    var lim = 256 - 256 % n, b = new Uint8Array(1);
    do { crypto.getRandomValues(b); } while (b[0] >= lim);
    return b[0] % n;
  }

  function generatePassword() {
    var all = CLASSES.join("");
    var chars = CLASSES.map(function (c) { return c.charAt(randomIndex(c.length)); });
    while (chars.length < GENERATED_LENGTH) chars.push(all.charAt(randomIndex(all.length)));
    for (var i = chars.length - 1; i > 0; i--) {
      var j = randomIndex(i + 1);
      var t = chars[i];
      chars[i] = chars[j];
      chars[j] = t;
    }
    return chars.join("");
  }

  function busy(on, working) {
    o.setBusy(form, on, [createButton, $("generate")]);
    createButton.textContent = on && working ? T("encrypting") : createButton.getAttribute("data-label");
  }

  // ---- the create token ----

  // askToken shows the token form instead of the create form.
  function askToken(message) {
    cred = null;
    o.keepCredential(null);
    show(form, false);
    show(tokenForm, true);
    show($("token-as"), false);
    if (message) o.showError(message);
    $("token-user").focus();
  }

  // useToken puts a credential the server accepted in force.
  function useToken(c) {
    cred = c;
    o.keepCredential(c);
    $("token-as-text").textContent = fill(T("tokenAs"), { user: c.user });
    show($("token-as"), true);
    show(tokenForm, false);
    show(form, true);
  }

  // checkToken asks the server whether it accepts c (GET /authcheck).
  function checkToken(c) {
    return o.api("GET", "/api/v1/authcheck", null, o.basicAuth(c));
  }

  tokenForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    var c = { user: $("token-user").value.trim(), token: $("token-secret").value.trim() };
    if (!c.user || !c.token) {
      o.showError(T("tokenNeeded"));
      (c.user ? $("token-secret") : $("token-user")).focus();
      return;
    }
    if (!USER_RE.test(c.user) || !TOKEN_RE.test(c.token)) {
      o.showError(T("tokenInvalid"));
      return;
    }
    o.setBusy(tokenForm, true, [$("token-submit")]);
    checkToken(c).then(function (r) {
      o.setBusy(tokenForm, false, [$("token-submit")]);
      if (!r.ok) {
        o.showError(o.errorText(r));
        $("token-secret").focus();
        return;
      }
      tokenForm.reset();
      o.hidePasswords();
      useToken(c);
      secret.focus();
    });
  });

  $("token-forget").addEventListener("click", function () {
    o.clearError();
    askToken("");
  });

  // ---- sending ----

  // share stores one envelope (the v1 share call with the envelope as the
  // secret and the proof as the passphrase), as JSON: it carries the
  // envelope's characters as they are, where a form escapes a quarter of
  // them, and the server takes it without decoding anything.
  function share(sealed) {
    var params = { secret: sealed.envelope, passphrase: sealed.proof, ttl: parseInt(ttl.value, 10) };
    return o.api("POST", "/api/v1/share", params, cred ? o.basicAuth(cred) : "", true);
  }

  // refused shows why the server said no.
  function refused(r) {
    if (r.status === 401 && cfg.tokens_required) askToken(T("tokenRejected")); // the token was withdrawn; the text stays
    else o.showError(o.errorText(r));
  }

  // send stores the secret: encrypted, or as typed.
  function send() {
    var sh = shape();
    if (!encrypt) {
      var params = { ttl: ttl.value, secret: secret.value };
      if (pass.value) params.passphrase = pass.value;
      busy(true, false);
      o.api("POST", "/api/v1/share", params, cred ? o.basicAuth(cred) : "").then(function (r) {
        params = null;
        busy(false);
        if (r.ok && r.data && r.data.secret_key) showResult(r.data, "");
        else refused(r);
      });
      return;
    }
    busy(true, true);
    files.contents(secret.value).then(function (plain) {
      var room = sh.kind === "split" ? SHARE_ROOM : 0;
      if (cfg.max_envelope_size && zk.envelopeLength(plain.length + room) > Math.max(cfg.max_envelope_size, cfg.max_secret_size)) {
        plain.fill(0);
        busy(false);
        o.showError(fill(T("tooLarge"), { max: o.formatSize(cfg.max_file_size || cfg.max_secret_size) }));
        return;
      }
      if (sh.kind === "one") {
        return zk.sealBytes(plain, pass.value).then(function (sealed) {
          plain.fill(0);
          return share(sealed).then(function (r) {
            busy(false);
            if (r.ok && r.data && r.data.secret_key) showResult(r.data, sealed.fragment);
            else refused(r);
          });
        });
      }
      return sendMany(plain, sh);
    }).catch(function (e) {
      busy(false);
      o.showError(e && e.fileName ? fill(T("fileUnreadable"), { name: e.fileName }) : T("generic"));
    });
  }

  // sendMany stores several secrets and gathers them in a group: the same
  // plain under n keys, or the n parts of a split of it. plain is wiped.
  function sendMany(plain, sh) {
    var contents = [];
    var id = null;
    if (sh.kind === "many") {
      for (var i = 0; i < sh.n; i++) contents.push(plain);
    } else {
      id = new Uint8Array(B.ID_BYTES);
      crypto.getRandomValues(id);
      working(T("splitting"));
      S.split(plain, sh.k, sh.n).forEach(function (y, x) {
        contents.push(B.write({ share: { k: sh.k, n: sh.n, x: x + 1, id: id }, payload: y }));
        y.fill(0);
      });
      plain.fill(0);
    }
    var made = [];
    var passphrase = pass.value;
    function next(i) {
      if (i === contents.length) return Promise.resolve(null);
      working(o.fill(T("sealingOf"), { i: o.formatNumber(i + 1), n: o.formatNumber(contents.length) }));
      return zk.sealBytes(contents[i], passphrase).then(function (sealed) {
        if (sh.kind === "split") contents[i].fill(0);
        return share(sealed).then(function (r) {
          if (!(r.ok && r.data && r.data.secret_key && r.data.metadata_key)) return r;
          made.push({ key: r.data.secret_key, receipt: r.data.metadata_key, fragment: sealed.fragment, ttl: r.data.secret_ttl || r.data.ttl });
          return next(i + 1);
        });
      });
    }
    return next(0).then(function (failed) {
      if (failed) return failed;
      return o.api("POST", "/api/otslite/group", { receipts: made.map(function (m) { return m.receipt; }) }, cred ? o.basicAuth(cred) : "", true);
    }).then(function (r) {
      contents.forEach(function (c) { c.fill(0); });
      if (r.ok && r.data && r.data.receipt_key) {
        busy(false);
        showMany(made, r.data.receipt_key, sh);
        return;
      }
      // What was stored goes: no link of a group that was never made
      // waits for anyone.
      return Promise.all(made.map(function (m) {
        return o.api("POST", "/api/v1/receipt/" + m.receipt + "/burn", {});
      })).then(function () {
        busy(false);
        refused(r);
      });
    });
  }

  function working(text) {
    createButton.textContent = text;
  }

  // resetForm empties the form once its secret is stored.
  function resetForm() {
    form.reset();
    files.clear();
    o.hidePasswords();
    updateShape();
    updateCounter();
    updateSessionNote();
    o.clearCopyNotes();
  }

  function showResult(receipt, fragment) {
    var hash = fragment ? "#" + fragment : "";
    var passphraseSet = pass.value !== "";
    resetForm();
    $("result-title").textContent = $("result-title").getAttribute("data-label");
    show($("result-note"), false);
    show($("one-link"), true);
    show($("many-links"), false);
    var link = location.origin + "/secret/" + receipt.secret_key + hash;
    $("share-link").value = link;
    var lives = typeof receipt.secret_ttl === "number" ? receipt.secret_ttl : receipt.ttl;
    var until = o.nowSeconds() + lives;
    $("share-expiry").textContent = fill(T("linkLives"), {
      duration: o.formatDuration(lives),
      time: o.formatTime(until)
    });
    var session = o.sessionNote(cfg, until);
    $("result-session").textContent = session;
    show($("result-session"), session !== "");
    show($("share-passphrase"), passphraseSet);
    show($("share-button"), typeof navigator.share === "function");
    qr.draw($("qr"), link);
    showReceipt(location.origin + "/receipt/" + receipt.metadata_key + hash);
  }

  // showReceipt shows the result with the sender's receipt link.
  function showReceipt(receiptURL) {
    $("receipt-link").value = receiptURL;
    $("receipt-open").href = receiptURL;
    show(form, false);
    show($("intro"), false);
    show($("insecure"), false);
    show(result, true);
    $("result-title").focus();
  }

  // showMany lists the links of a group, each to copy, and the group's
  // receipt. The receipt link of a split says how many parts rebuild it
  // ("#k<k>"), so the receipt can say when enough were opened.
  function showMany(made, groupKey, sh) {
    var passphraseSet = pass.value !== "";
    resetForm();
    var n = made.length;
    var split = sh.kind === "split";
    $("result-title").textContent = split ? o.P("resultParts", n) : o.P("resultLinks", n);
    $("result-note").textContent = split ? o.P("resultPartsNote", n, { k: o.formatNumber(sh.k) }) : T("resultLinksNote");
    show($("result-note"), true);
    var list = $("link-list");
    list.textContent = "";
    made.forEach(function (m, i) {
      var li = document.createElement("li");
      li.className = "link-box for-recipient";
      var id = "link-" + (i + 1);
      var label = document.createElement("label");
      label.className = "tag";
      label.id = id + "-label";
      label.htmlFor = id;
      label.textContent = split ? fill(T("partLabel"), { x: o.formatNumber(i + 1), n: o.formatNumber(n) }) : fill(T("linkLabel"), { i: o.formatNumber(i + 1) });
      var field = document.createElement("textarea");
      field.id = id;
      field.className = "link-text";
      field.rows = 2;
      field.readOnly = true;
      field.spellcheck = false;
      field.dir = "ltr";
      field.value = location.origin + "/secret/" + m.key + "#" + m.fragment;
      var actions = document.createElement("div");
      actions.className = "actions";
      var copy = document.createElement("button");
      copy.type = "button";
      copy.setAttribute("data-copy", id);
      copy.setAttribute("aria-describedby", id + "-label");
      copy.textContent = T("copy");
      o.wireCopy(copy);
      actions.appendChild(copy);
      var note = document.createElement("p");
      note.className = "copy-note";
      note.setAttribute("role", "status");
      note.setAttribute("data-note-for", id);
      li.appendChild(label);
      li.appendChild(field);
      li.appendChild(actions);
      li.appendChild(note);
      list.appendChild(li);
    });
    var lives = made[0].ttl;
    var until = o.nowSeconds() + lives;
    $("many-expiry").textContent = fill(T("linksLive"), { duration: o.formatDuration(lives), time: o.formatTime(until) });
    var session = o.sessionNote(cfg, until);
    $("many-session").textContent = session;
    show($("many-session"), session !== "");
    show($("many-passphrase"), passphraseSet);
    show($("one-link"), false);
    show($("many-links"), true);
    showReceipt(location.origin + "/group/" + groupKey + (split ? "#k" + sh.k : ""));
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    if (secret.value === "" && !files.files()) {
      o.showError(cfg && cfg.max_file_size && encrypt ? T("emptyContent") : T("emptySecret"));
      secret.focus();
      return;
    }
    var used = o.utf8Length(secret.value);
    var max = limit();
    if (files.files()) {
      var problem = files.check();
      if (problem) {
        o.showError(problem);
        $("add-files").focus();
        return;
      }
    } else if (max && used > max) {
      o.showError(fill(T("secretTooLarge"), { over: o.formatBytes(used - max) }));
      secret.focus();
      return;
    }
    var sh = shape();
    if (sh.kind !== "one" && !(sh.n && (sh.kind === "many" || sh.k))) {
      var most = cfg && cfg.max_links >= 2 ? cfg.max_links : 20;
      o.showError(sh.kind === "many" ? fill(T("linksBounds"), { max: o.formatNumber(most) }) : fill(T("splitBounds"), { max: o.formatNumber(most) }));
      $("shape-box").open = true;
      $(sh.kind === "many" ? "links-n" : sh.n ? "split-k" : "split-n").focus();
      return;
    }
    if (!checkPassphrase()) return;
    if (!encrypt && !plainOK.checked) {
      o.showError(T("insecureUnconfirmed"));
      plainOK.focus();
      return;
    }
    send();
  });

  $("generate").addEventListener("click", function () {
    secret.value = generatePassword();
    updateCounter();
    secret.focus();
    secret.select();
  });

  $("share-button").addEventListener("click", function () {
    // The link alone: never the passphrase, never the receipt.
    navigator.share({ title: T("shareTitle"), url: $("share-link").value }).catch(function () {
      // dismissed, or the browser refused: the link is still there to copy
    });
  });

  $("again").addEventListener("click", function () {
    $("link-list").textContent = "";
    $("share-link").value = "";
    $("receipt-link").value = "";
    $("receipt-open").href = "/";
    $("qr").textContent = "";
    o.clearCopyNotes();
    o.clearError();
    show(result, false);
    show($("intro"), true);
    show($("insecure"), !encrypt);
    show(form, true);
    secret.focus();
  });

  secret.addEventListener("input", updateCounter);
  ttl.addEventListener("change", updateSessionNote);
  ["shape-one", "shape-many", "shape-split", "links-n", "split-k", "split-n"].forEach(function (id) {
    $(id).addEventListener("change", updateShape);
    $(id).addEventListener("input", updateShape);
  });
  createButton.setAttribute("data-label", createButton.textContent);
  $("result-title").setAttribute("data-label", $("result-title").textContent);
  // No claim of encryption where there is none; a warning and a box to
  // tick instead.
  show($("zk-note"), encrypt);
  show($("insecure"), !encrypt);
  show($("insecure-confirm"), !encrypt);

  buildTTLs();
  updateCounter();
  busy(true);
  // Nothing can be typed until the page knows whether a token comes first.
  form.inert = true;
  o.loadConfig().then(function (c) {
    cfg = c.config;
    form.inert = false;
    if (!c.ok) o.showError(T("configFailed"));
    buildTTLs();
    // Files and the shapes need the browser to encrypt.
    files.setCap(encrypt ? cfg : { max_file_size: 0 });
    show($("shape-box"), encrypt);
    show($("ask-note"), encrypt);
    updateShape();
    if (!cfg.tokens_required) {
      busy(false);
      return;
    }
    var kept = o.credential();
    if (!kept) {
      busy(false);
      askToken("");
      return;
    }
    // A token kept from earlier in this tab: check it is still accepted.
    checkToken(kept).then(function (r) {
      busy(false);
      if (r.ok) useToken(kept);
      else askToken(r.status === 401 ? T("tokenRejected") : o.errorText(r));
    });
  });
})();
