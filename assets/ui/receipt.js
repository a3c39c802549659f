// otslite UI, receipt page (/receipt/<key>, /private/<key>): state and burn.
"use strict";

(function () {
  var o = window.otslite;
  var TEXT = o.TEXT;
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
    var needsPassphrase = false;

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
        case "new": return TEXT.stateNew;
        case "received":
          return typeof rc.received === "number" && rc.received > 0
            ? fill(TEXT.stateReceived, { time: formatTime(rc.received) }) : TEXT.stateReceivedNoTime;
        case "burned": return TEXT.stateBurned;
        case "expired": return TEXT.stateExpired;
        default: return TEXT.stateUnknown;
      }
    }

    function render(rc) {
      var now = nowSeconds();
      var isNew = rc.state === "new";
      needsPassphrase = rc.passphrase_required === true;
      $("state-text").textContent = stateText(rc);
      $("created").textContent = typeof rc.created === "number" ? formatTime(rc.created) : "";
      var left = isNew && typeof rc.secret_ttl === "number" ? rc.secret_ttl : rc.metadata_ttl;
      $("expiry-label").textContent = isNew ? TEXT.secretExpires : TEXT.receiptExpires;
      $("expiry").textContent = typeof left === "number"
        ? fill(TEXT.atTimeIn, { time: formatTime(now + left), duration: formatDuration(left) }) : "";
      $("passphrase-info").textContent = needsPassphrase ? TEXT.passphraseYes : TEXT.passphraseNo;
      var canShare = isNew && typeof rc.secret_key === "string" && rc.secret_key !== "";
      $("share-link").value = canShare ? location.origin + "/secret/" + rc.secret_key : "";
      show($("share"), canShare);
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

    burnForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearError();
      var params = {};
      if (needsPassphrase) {
        if (burnPass.value === "") {
          showError(TEXT.passphraseMissing);
          burnPass.focus();
          return;
        }
        params.passphrase = burnPass.value;
      }
      setBusy(burnForm, true, [burnConfirm, burnCancel]);
      api("POST", "/api/v1/receipt/" + key + "/burn", params).then(function (r) {
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
          load().then(function () { showError(TEXT.burnTooLate); });
          return;
        }
        showError(errorText(r));
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
    load();
  }

  initReceipt();
})();
