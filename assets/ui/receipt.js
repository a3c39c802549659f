// otslite UI, receipt page (/receipt/<key>, /private/<key>): state and burn.
// A receipt link made by the create page carries the secret link's fragment,
// so this page can rebuild the whole secret link and compute the proof that
// burning a browser-encrypted secret needs.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var T = o.T;
  var fill = o.fill;
  var formatDuration = o.formatDuration;
  var formatTime = o.formatTime;
  var nowSeconds = o.nowSeconds;
  var api = o.api;
  var errorText = o.errorText;
  var showError = o.showError;
  var clearError = o.clearError;
  var hidePasswords = o.hidePasswords;
  var keyFromPath = o.keyFromPath;
  var setBusy = o.setBusy;
  var show = o.show;
  var $ = o.$;

  function initReceipt() {
    var key = keyFromPath(["receipt", "private"]);
    var loading = $("loading");
    var section = $("receipt");
    var burnArea = $("burn-area");
    var burnStart = $("burn-start");
    var burnForm = $("burn-form");
    var burnPass = $("burn-passphrase");
    var burnConfirm = $("burn-confirm");
    var burnCancel = $("burn-cancel");
    var refresh = $("refresh");
    var link = zk.parseFragment(location.hash) || null;
    var needsPassphrase = false; // a person must type one to burn
    var cfg = null;

    function showMissing() {
      show(loading, false);
      show(section, false);
      show($("missing"), true);
    }

    function closeBurn() {
      burnForm.reset();
      hidePasswords();
      show(burnForm, false);
      show(burnStart, true);
    }

    function stateText(rc) {
      switch (rc.state) {
        case "new": return T("stateNew");
        case "received":
          return typeof rc.received === "number" && rc.received > 0
            ? fill(T("stateReceived"), { time: formatTime(rc.received) }) : T("stateReceivedNoTime");
        case "burned": return T("stateBurned");
        case "expired": return T("stateExpired");
        default: return T("stateUnknown");
      }
    }

    function render(rc) {
      var now = nowSeconds();
      var isNew = rc.state === "new";
      var guarded = rc.passphrase_required === true;
      needsPassphrase = link ? link.passphrase : guarded;
      $("state-text").textContent = stateText(rc);
      $("created").textContent = typeof rc.created === "number" ? formatTime(rc.created) : "";
      var left = isNew && typeof rc.secret_ttl === "number" ? rc.secret_ttl : rc.metadata_ttl;
      $("expiry-label").textContent = isNew ? T("secretExpires") : T("receiptExpires");
      $("expiry").textContent = typeof left === "number"
        ? fill(T("atTimeIn"), { time: formatTime(now + left), duration: formatDuration(left) }) : "";
      $("passphrase-info").textContent = needsPassphrase ? T("passphraseYes")
        : link && guarded ? T("passphraseKey") : T("passphraseNo");
      var canShare = isNew && typeof rc.secret_key === "string" && rc.secret_key !== "";
      $("share-link").value = canShare
        ? location.origin + "/secret/" + rc.secret_key + (link ? "#" + link.fragment : "") : "";
      show($("share"), canShare);
      // A secret made by the create page always has a proof on the server;
      // without the fragment its link cannot be rebuilt here.
      show($("share-note"), canShare && !link && guarded);
      show($("burn-passphrase-field"), needsPassphrase);
      if (!isNew) closeBurn();
      show(burnArea, isNew);
      show(loading, false);
      show(section, true);
    }

    function load() {
      return api("GET", "/api/v1/receipt/" + key).then(function (r) {
        if (r.ok && r.data) {
          render(r.data);
        } else if (r.status === 404) {
          showMissing();
        } else {
          show(loading, false);
          showError(errorText(r));
        }
        return r;
      });
    }

    if (!key) {
      showMissing();
      return;
    }

    burnStart.addEventListener("click", function () {
      clearError();
      show($("burned-note"), false);
      show(burnStart, false);
      show(burnForm, true);
      if (needsPassphrase) burnPass.focus();
      else burnConfirm.focus();
    });

    burnCancel.addEventListener("click", function () {
      clearError();
      closeBurn();
      burnStart.focus();
    });

    // burnParams resolves to the burn request's fields: the proof for a
    // browser-encrypted secret, else the passphrase as typed.
    function burnParams(passphrase) {
      if (!link) return Promise.resolve(passphrase ? { passphrase: passphrase } : {});
      return zk.unlock(link, passphrase, cfg).then(function (u) {
        u.ikm.fill(0);
        return { passphrase: u.proof };
      });
    }

    burnForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearError();
      if (needsPassphrase && burnPass.value === "") {
        showError(T("passphraseMissing"));
        burnPass.focus();
        return;
      }
      setBusy(burnForm, true, [burnConfirm, burnCancel]);
      burnParams(needsPassphrase ? burnPass.value : "").then(function (params) {
        return api("POST", "/api/v1/receipt/" + key + "/burn", params);
      }, function () {
        return { ok: false, status: -1 };
      }).then(function (r) {
        setBusy(burnForm, false, [burnConfirm, burnCancel]);
        if (r.ok && r.data && r.data.state && typeof r.data.state === "object") {
          closeBurn();
          render(r.data.state);
          show($("burned-note"), true);
          $("state-text").focus();
          return;
        }
        if (r.status === 404) {
          closeBurn();
          load().then(function () { showError(T("burnTooLate")); });
          return;
        }
        showError(r.status === 400 ? T("incorrectPassphrase") : errorText(r));
        if (needsPassphrase && r.status === 400) {
          burnPass.focus();
          burnPass.select();
        }
      });
    });

    refresh.addEventListener("click", function () {
      clearError();
      show($("burned-note"), false);
      refresh.disabled = true;
      load().then(function () { refresh.disabled = false; });
    });

    show(loading, true);
    if (link && !zk.available()) {
      link = null; // the receipt still shows; burning asks for what it can
    }
    o.loadConfig().then(function (c) {
      cfg = c.config;
      load();
    });
  }

  initReceipt();
})();
