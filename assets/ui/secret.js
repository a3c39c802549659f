// otslite UI, secret page (/secret/<key>, #<fragment> for secrets encrypted
// in the browser): check, then reveal on request. Nothing that consumes the
// secret is sent before the Reveal button is pressed.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var T = o.T;
  var $ = o.$;
  var show = o.show;

  var key = o.keyFromPath(["secret"]);
  var link = zk.parseFragment(location.hash); // null: a v1 link; false: damaged
  var loading = $("loading");
  var waiting = $("waiting");
  var form = $("reveal-form");
  var pass = $("passphrase");
  var revealButton = $("reveal");
  var statusPath = "/api/otslite/secret/" + key;
  var needsPassphrase = false;
  var cfg = null;

  function showGone() {
    show(loading, false);
    show(waiting, false);
    show($("gone"), true);
    $("gone-title").focus();
  }

  function check() {
    return o.api("GET", statusPath);
  }

  function busy(on, working) {
    o.setBusy(form, on, [revealButton]);
    revealButton.textContent = on && working ? T("decrypting") : revealButton.getAttribute("data-label");
  }

  function showSecret(text) {
    busy(false);
    form.reset();
    o.hidePasswords();
    $("value").value = text;
    show(waiting, false);
    show($("revealed"), true);
    $("revealed-title").focus();
  }

  // failed explains a reveal that did not return the secret. A wrong proof
  // and a vanished secret answer alike; asking again, without consuming,
  // tells which.
  function failed(r) {
    if (r.status !== 404) {
      busy(false);
      o.showError(o.errorText(r));
      return;
    }
    if (!needsPassphrase && !link) {
      showGone();
      return;
    }
    check().then(function (c) {
      busy(false);
      if (!c.ok && c.status === 404) {
        showGone();
      } else if (!c.ok) {
        o.showError(o.errorText(c));
      } else if (needsPassphrase) {
        o.showError(T("wrongPassphrase"));
        pass.focus();
        pass.select();
      } else {
        o.showError(T("badLink")); // the fragment's key is not this secret's
      }
    });
  }

  function revealPlain(passphrase) {
    var params = {};
    if (passphrase) params.passphrase = passphrase;
    o.api("POST", "/api/v1/secret/" + key, params).then(function (r) {
      if (r.ok && r.data && typeof r.data.value === "string") showSecret(r.data.value);
      else failed(r);
    });
  }

  function revealEncrypted(passphrase) {
    zk.unlock(link, passphrase, cfg).then(function (u) {
      return o.api("POST", "/api/v1/secret/" + key, { passphrase: u.proof }).then(function (r) {
        if (!(r.ok && r.data && typeof r.data.value === "string")) {
          u.ikm.fill(0);
          failed(r);
          return;
        }
        return zk.open(r.data.value, u.ikm).then(showSecret, function () {
          busy(false);
          show(waiting, false);
          o.showError(T("decryptFailed"));
        });
      });
    }, function () {
      busy(false);
      o.showError(T("generic"));
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    if (needsPassphrase && pass.value === "") {
      o.showError(T("passphraseMissing"));
      pass.focus();
      return;
    }
    var passphrase = needsPassphrase ? pass.value : "";
    busy(true, !!link);
    if (link) revealEncrypted(passphrase);
    else revealPlain(passphrase);
  });

  revealButton.setAttribute("data-label", revealButton.textContent);

  if (!key) {
    showGone();
    return;
  }
  if (link === false) {
    o.showError(T("badLink"));
    return;
  }
  if (link && !zk.available()) {
    o.showError(T("needsSecure"));
    return;
  }

  show(loading, true);
  Promise.all([check(), link ? o.loadConfig() : null]).then(function (r) {
    var c = r[0];
    cfg = r[1] && r[1].config;
    show(loading, false);
    if (!c.ok) {
      if (c.status === 404) showGone();
      else o.showError(o.errorText(c));
      return;
    }
    // An encrypted secret always has a proof on the server; whether a
    // person must type a passphrase is in the link.
    needsPassphrase = link ? link.passphrase : c.data && c.data.passphrase_required === true;
    show($("passphrase-field"), needsPassphrase);
    if (c.data && typeof c.data.secret_ttl === "number") {
      $("waiting-expiry").textContent = o.fill(T("waitingExpiry"), { duration: o.formatDuration(c.data.secret_ttl) });
    }
    show(waiting, true);
  });
})();
