// otslite UI, create page (/): make a secret link, or a generated password.
"use strict";

(function () {
  var o = window.otslite;
  var TEXT = o.TEXT;
  var fill = o.fill;
  var formatNumber = o.formatNumber;
  var formatDuration = o.formatDuration;
  var formatTime = o.formatTime;
  var nowSeconds = o.nowSeconds;
  var utf8Length = o.utf8Length;
  var codePoints = o.codePoints;
  var api = o.api;
  var errorText = o.errorText;
  var showError = o.showError;
  var clearError = o.clearError;
  var hidePasswords = o.hidePasswords;
  var clearCopyNotes = o.clearCopyNotes;
  var setBusy = o.setBusy;
  var show = o.show;
  var $ = o.$;

  var TTL_CHOICES = [300, 3600, 86400, 604800];

  function initCreate() {
    var form = $("create-form");
    var secret = $("secret");
    var counter = $("secret-count");
    var pass = $("passphrase");
    var ttl = $("ttl");
    var createButton = $("create");
    var generateButton = $("generate");
    var result = $("result");
    var cfg = {
      default_ttl: 3600,
      max_ttl: 604800,
      max_secret_size: 0,
      passphrase_min: 0,
      passphrase_max: 0
    };

    function updateCounter() {
      var used = utf8Length(secret.value);
      var max = cfg.max_secret_size;
      counter.textContent = max
        ? fill(TEXT.byteCount, { used: formatNumber(used), max: formatNumber(max) })
        : fill(TEXT.byteCountNoMax, { used: formatNumber(used) });
      var over = max > 0 && used > max;
      counter.classList.toggle("over", over);
      secret.setAttribute("aria-invalid", over ? "true" : "false");
    }

    function buildTTLs() {
      var max = cfg.max_ttl >= 60 ? cfg.max_ttl : 604800;
      var choices = TTL_CHOICES.filter(function (t) { return t <= max; });
      if (choices.indexOf(max) < 0) choices.push(max);
      var selected = choices.indexOf(cfg.default_ttl) >= 0 ? cfg.default_ttl
        : choices.indexOf(3600) >= 0 ? 3600 : choices[choices.length - 1];
      ttl.textContent = "";
      choices.forEach(function (t) {
        var opt = document.createElement("option");
        opt.value = String(t);
        opt.textContent = formatDuration(t);
        opt.defaultSelected = opt.selected = t === selected; // survives form.reset()
        ttl.appendChild(opt);
      });
    }

    function checkPassphrase() {
      var n = codePoints(pass.value);
      if (n === 0) return true;
      if (cfg.passphrase_min && n < cfg.passphrase_min) {
        showError(fill(TEXT.passphraseShort, { min: cfg.passphrase_min }));
      } else if (cfg.passphrase_max && n > cfg.passphrase_max) {
        showError(fill(TEXT.passphraseLong, { max: cfg.passphrase_max }));
      } else {
        return true;
      }
      pass.focus();
      return false;
    }

    function send(path, params) {
      clearError();
      if (!checkPassphrase()) return;
      if (pass.value) params.passphrase = pass.value;
      params.ttl = ttl.value;
      setBusy(form, true, [createButton, generateButton]);
      api("POST", path, params).then(function (r) {
        setBusy(form, false, [createButton, generateButton]);
        if (!r.ok || !r.data || !r.data.secret_key) {
          showError(errorText(r));
          return;
        }
        showResult(r.data);
      });
    }

    function showResult(receipt) {
      var origin = location.origin;
      form.reset();
      hidePasswords();
      updateCounter();
      clearCopyNotes();
      $("share-link").value = origin + "/secret/" + receipt.secret_key;
      var lives = typeof receipt.secret_ttl === "number" ? receipt.secret_ttl : receipt.ttl;
      $("share-expiry").textContent = fill(TEXT.linkLives, {
        duration: formatDuration(lives),
        time: formatTime(nowSeconds() + lives)
      });
      show($("share-passphrase"), receipt.passphrase_required === true);
      var generated = typeof receipt.value === "string";
      $("generated-value").value = generated ? receipt.value : "";
      show($("generated"), generated);
      var receiptURL = origin + "/receipt/" + receipt.metadata_key;
      $("receipt-link").value = receiptURL;
      $("receipt-open").href = receiptURL;
      show(form, false);
      show(result, true);
      $("result-title").focus();
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearError();
      if (secret.value === "") {
        showError(TEXT.emptySecret);
        secret.focus();
        return;
      }
      var used = utf8Length(secret.value);
      if (cfg.max_secret_size && used > cfg.max_secret_size) {
        showError(fill(TEXT.secretTooLarge, { over: formatNumber(used - cfg.max_secret_size) }));
        secret.focus();
        return;
      }
      send("/api/v1/share", { secret: secret.value });
    });

    generateButton.addEventListener("click", function () {
      send("/api/v1/generate", {});
    });

    $("again").addEventListener("click", function () {
      $("share-link").value = "";
      $("generated-value").value = "";
      $("receipt-link").value = "";
      clearCopyNotes();
      clearError();
      show(result, false);
      show(form, true);
      secret.focus();
    });

    secret.addEventListener("input", updateCounter);

    buildTTLs();
    updateCounter();
    api("GET", "/api/otslite/config").then(function (r) {
      if (!r.ok || !r.data) {
        showError(TEXT.configFailed);
        return;
      }
      Object.keys(cfg).forEach(function (k) {
        if (typeof r.data[k] === "number" && r.data[k] >= 0) cfg[k] = r.data[k];
      });
      buildTTLs();
      updateCounter();
    });
  }

  initCreate();
})();
