// otslite UI, create page (/): encrypt a secret in the browser and share
// its link. Where the browser cannot encrypt (no secure context), the text
// goes to the server as the v1 API takes it, and the page says so first.
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

  // Generated passwords: no look-alike characters (i l o 1 I O 0), at
  // least one of each class.
  var CLASSES = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghjkmnpqrstuvwxyz", "23456789", "!#$%&*+-=?@^_~"];
  var GENERATED_LENGTH = 20;

  var form = $("create-form");
  var secret = $("secret");
  var counter = $("secret-count");
  var pass = $("passphrase");
  var ttl = $("ttl");
  var createButton = $("create");
  var result = $("result");
  var encrypt = zk.available();
  var cfg = null;

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
    counter.textContent = max ? fill(T("byteCount"), { used: o.formatNumber(used), max: o.formatNumber(max) }) : "";
    var over = max > 0 && used > max;
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
  }

  function checkPassphrase() {
    var n = o.codePoints(pass.value);
    if (n === 0) return true;
    if (cfg.passphrase_min && n < cfg.passphrase_min) {
      o.showError(fill(T("passphraseShort"), { min: cfg.passphrase_min }));
    } else if (cfg.passphrase_max && n > cfg.passphrase_max) {
      o.showError(fill(T("passphraseLong"), { max: cfg.passphrase_max }));
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

  // send stores the secret: encrypted (the v1 share call with the envelope
  // as the secret and the proof as the passphrase), or as typed.
  function send() {
    var params = { ttl: ttl.value };
    var sealed;
    if (encrypt) {
      sealed = zk.seal(secret.value, pass.value, cfg).then(function (s) {
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
      return o.api("POST", "/api/v1/share", params).then(function (r) {
        params = null;
        busy(false);
        if (!r.ok || !r.data || !r.data.secret_key) {
          o.showError(o.errorText(r));
          return;
        }
        showResult(r.data, fragment);
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
    o.clearCopyNotes();
    var link = location.origin + "/secret/" + receipt.secret_key + hash;
    $("share-link").value = link;
    var lives = typeof receipt.secret_ttl === "number" ? receipt.secret_ttl : receipt.ttl;
    $("share-expiry").textContent = fill(T("linkLives"), {
      duration: o.formatDuration(lives),
      time: o.formatTime(o.nowSeconds() + lives)
    });
    show($("share-passphrase"), passphraseSet);
    qr.draw($("qr"), link);
    var receiptURL = location.origin + "/receipt/" + receipt.metadata_key + hash;
    $("receipt-link").value = receiptURL;
    $("receipt-open").href = receiptURL;
    show(form, false);
    show($("intro"), false);
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
      o.showError(fill(T("secretTooLarge"), { over: o.formatNumber(used - max) }));
      secret.focus();
      return;
    }
    if (!checkPassphrase()) return;
    send();
  });

  $("generate").addEventListener("click", function () {
    secret.value = generatePassword();
    updateCounter();
    secret.focus();
    secret.select();
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
    show(form, true);
    secret.focus();
  });

  secret.addEventListener("input", updateCounter);
  createButton.setAttribute("data-label", createButton.textContent);
  show($("insecure"), !encrypt);

  buildTTLs();
  busy(true);
  o.loadConfig().then(function (c) {
    cfg = c.config;
    if (!c.ok) o.showError(T("configFailed"));
    buildTTLs();
    updateCounter();
    busy(false);
  });
})();
