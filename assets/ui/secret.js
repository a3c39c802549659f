// otslite UI, secret page (/secret/<key>): check, then reveal on request.
"use strict";

(function () {
  var o = window.otslite;
  var TEXT = o.TEXT;
  var fill = o.fill;
  var formatDuration = o.formatDuration;
  var api = o.api;
  var errorText = o.errorText;
  var showError = o.showError;
  var clearError = o.clearError;
  var hidePasswords = o.hidePasswords;
  var keyFromPath = o.keyFromPath;
  var setBusy = o.setBusy;
  var show = o.show;
  var $ = o.$;

  function initSecret() {
    var key = keyFromPath(["secret"]);
    var loading = $("loading");
    var waiting = $("waiting");
    var form = $("reveal-form");
    var pass = $("passphrase");
    var revealButton = $("reveal");
    var statusPath = "/api/otslite/secret/" + key;
    var needsPassphrase = false;

    function showGone() {
      show(loading, false);
      show(waiting, false);
      show($("gone"), true);
    }

    function check() {
      return api("GET", statusPath);
    }

    if (!key) {
      showGone();
      return;
    }

    show(loading, true);
    check().then(function (r) {
      show(loading, false);
      if (!r.ok) {
        if (r.status === 404) showGone();
        else showError(errorText(r));
        return;
      }
      needsPassphrase = r.data && r.data.passphrase_required === true;
      show($("passphrase-field"), needsPassphrase);
      if (r.data && typeof r.data.secret_ttl === "number") {
        $("waiting-expiry").textContent = fill(TEXT.waitingExpiry, { duration: formatDuration(r.data.secret_ttl) });
      }
      show(waiting, true);
    });

    // Nothing that consumes the secret is sent before this submit.
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearError();
      var params = {};
      if (needsPassphrase) {
        if (pass.value === "") {
          showError(TEXT.passphraseMissing);
          pass.focus();
          return;
        }
        params.passphrase = pass.value;
      }
      setBusy(form, true, [revealButton]);
      api("POST", "/api/v1/secret/" + key, params).then(function (r) {
        if (r.ok && r.data && typeof r.data.value === "string") {
          setBusy(form, false, [revealButton]);
          form.reset();
          hidePasswords();
          $("value").value = r.data.value;
          show(waiting, false);
          show($("revealed"), true);
          $("revealed-title").focus();
          return;
        }
        if (r.status !== 404) {
          setBusy(form, false, [revealButton]);
          showError(errorText(r));
          return;
        }
        if (!needsPassphrase) {
          showGone();
          return;
        }
        // A wrong passphrase and a vanished secret answer alike; ask again,
        // without consuming, to tell the reader which.
        check().then(function (c) {
          setBusy(form, false, [revealButton]);
          if (c.ok) {
            showError(TEXT.wrongPassphrase);
            pass.focus();
            pass.select();
          } else if (c.status === 404) {
            showGone();
          } else {
            showError(errorText(c));
          }
        });
      });
    });
  }

  initSecret();
})();
