// otslite UI, create page (/): encrypt a secret in the browser and share
// its link. Where the browser cannot encrypt (no secure context: plain HTTP
// to another machine), the page says so, makes no claim of encryption, and
// sends the text as the v1 API takes it only once the sender has ticked a
// box that names the risk. Where the server needs a create token, the page
// asks for it first and keeps it for this tab only.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var qr = window.otsliteQR;
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

  // limit is the most bytes of text this page can send: what the server
  // takes, less the envelope's overhead when encrypting.
  function limit() {
    var max = cfg ? cfg.max_secret_size : 0;
    if (!max) return 0;
    return encrypt ? zk.maxPlain(max) : max;
  }

  function updateCounter() {
    var used = o.utf8Length(secret.value);
    var max = limit();
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

  // send stores the secret: encrypted (the v1 share call with the envelope
  // as the secret and the proof as the passphrase), or as typed.
  function send() {
    var params = { ttl: ttl.value };
    var sealed;
    if (encrypt) {
      sealed = zk.seal(secret.value, pass.value).then(function (s) {
        params.secret = s.envelope;
        params.passphrase = s.proof;
        return s.fragment;
      });
    } else {
      params.secret = secret.value;
      if (pass.value) params.passphrase = pass.value;
      sealed = Promise.resolve("");
    }
    busy(true, encrypt);
    sealed.then(function (fragment) {
      return o.api("POST", "/api/v1/share", params, cred ? o.basicAuth(cred) : "").then(function (r) {
        params = null;
        busy(false);
        if (r.ok && r.data && r.data.secret_key) {
          showResult(r.data, fragment);
        } else if (r.status === 401 && cfg.tokens_required) {
          askToken(T("tokenRejected")); // the token was withdrawn; the text stays
        } else {
          o.showError(o.errorText(r));
        }
      });
    }, function () {
      busy(false);
      o.showError(T("generic"));
    });
  }

  function showResult(receipt, fragment) {
    var hash = fragment ? "#" + fragment : "";
    var passphraseSet = pass.value !== "";
    form.reset();
    o.hidePasswords();
    updateCounter();
    updateSessionNote();
    o.clearCopyNotes();
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
    var receiptURL = location.origin + "/receipt/" + receipt.metadata_key + hash;
    $("receipt-link").value = receiptURL;
    $("receipt-open").href = receiptURL;
    show(form, false);
    show($("intro"), false);
    show($("insecure"), false);
    show(result, true);
    $("result-title").focus();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    if (secret.value === "") {
      o.showError(T("emptySecret"));
      secret.focus();
      return;
    }
    var used = o.utf8Length(secret.value);
    var max = limit();
    if (max && used > max) {
      o.showError(fill(T("secretTooLarge"), { over: o.formatBytes(used - max) }));
      secret.focus();
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
  createButton.setAttribute("data-label", createButton.textContent);
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
    updateCounter();
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
