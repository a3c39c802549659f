// otslite UI, secret page (/secret/<key>, #<fragment> for secrets encrypted
// in the browser): check, then reveal on request. Nothing that consumes the
// secret is sent before the Reveal button is pressed.
//
// What the page shows comes from the server's answer to a peek (GET
// /api/otslite/secret/<key>, which consumes nothing): whether a secret
// waits, whether it was made in a browser ("proof"), whether a person must
// type a passphrase, how many tries are left before a lock ("tries_left")
// and until when a lock holds ("locked_until"). A browser-made secret whose
// link has lost its part after "#" reads as an incomplete link, never as a
// passphrase prompt: guessing there could only lock it.
//
// What is revealed is text, or a bundle of text and files (contents.js
// shows them, each file to download under its name), or one part of a
// split secret: then the page asks for the links of the other parts and
// opens them from this tab (parts.js), until the secret can be rebuilt.
// A link that is gone reads the same whatever happened to it, and says
// that the sender's receipt shows this attempt to open it again.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var C = window.otsliteContents;
  var B = window.otsliteBundle;
  var T = o.T;
  var $ = o.$;
  var show = o.show;

  var key = o.keyFromPath(["secret"]);
  var link = zk.parseFragment(location.hash); // null: no fragment; false: damaged
  var loading = $("loading");
  var waiting = $("waiting");
  var form = $("reveal-form");
  var pass = $("passphrase");
  var revealButton = $("reveal");
  var statusPath = "/api/otslite/secret/" + key;
  var needsPassphrase = false;
  var lockedUntil = 0;
  var lockTimer = 0;
  var cfg = null;
  var parts = window.otsliteParts.create(function (plain) {
    showContents(plain);
  });

  function showOnly(id) {
    ["loading", "waiting", "revealed", "gone", "incomplete", "parts"].forEach(function (s) {
      show($(s), s === id);
    });
  }

  function showGone() {
    o.clearError();
    showOnly("gone");
    $("gone-title").focus();
  }

  function showIncomplete() {
    o.clearError();
    showOnly("incomplete");
    $("incomplete-title").focus();
  }

  function check() {
    return o.api("GET", statusPath);
  }

  function busy(on, working) {
    o.setBusy(form, on, [revealButton]);
    revealButton.textContent = on && working ? T("decrypting") : revealButton.getAttribute("data-label");
    if (!on) revealButton.disabled = lockedUntil > o.nowSeconds();
  }

  // ---- lockouts ----

  // lock disables Reveal until `until` (unix seconds) and says so; then
  // the page asks the server again.
  function lock(until) {
    lockedUntil = until;
    var left = until - o.nowSeconds();
    clearTimeout(lockTimer);
    if (left <= 0) {
      show($("locked"), false);
      revealButton.disabled = false;
      return;
    }
    $("locked").textContent = o.fill(T("locked"), { time: o.formatTime(until), duration: o.formatDuration(left) });
    show($("locked"), true);
    revealButton.disabled = true;
    lockTimer = setTimeout(function () {
      check().then(function (c) {
        if (!c.ok && c.status === 404) showGone();
        else if (c.ok) lockState(c.data);
        else lock(0);
      });
    }, Math.min(left, 3600) * 1000 + 500);
  }

  // lockState shows the tries left and any lock the peek reports.
  function lockState(d) {
    var tries = $("tries");
    var n = d && typeof d.tries_left === "number" ? d.tries_left : -1;
    var until = d && typeof d.locked_until === "number" ? d.locked_until : 0;
    if (needsPassphrase && n > 0 && until <= o.nowSeconds()) {
      tries.textContent = o.P("triesLeft", n);
      show(tries, true);
    } else {
      show(tries, false);
    }
    lock(until);
  }

  // ---- revealing ----

  function done() {
    busy(false);
    form.reset();
    o.hidePasswords();
  }

  // showContents shows decrypted bytes: text, files, or a part of a split
  // secret (kept, and the page asks for the others).
  function showContents(plain) {
    var c;
    try {
      c = C.read(plain);
    } catch (e) {
      plain.fill(0);
      showOnly("");
      o.showError(C.problem(e));
      return;
    }
    if (c.share) {
      showOnly("");
      parts.add(c.share, c.payload, key);
      plain.fill(0);
      $("part-link").focus();
      return;
    }
    C.show(c, plain);
    showOnly("revealed");
    C.focus();
  }

  // showText shows a secret stored as plain text through the API: a text
  // that begins with NUL is a bundle only if it reads as one.
  function showText(text) {
    if (text.charCodeAt(0) === 0) {
      var bytes = new TextEncoder().encode(text);
      try {
        var c = B.parse(bytes);
        if (!c.share) {
          C.show(c, bytes);
          showOnly("revealed");
          C.focus();
          return;
        }
      } catch (e) {
        // not a bundle: it is text
      }
      bytes.fill(0);
    }
    C.show({ text: text, files: [] }, null);
    showOnly("revealed");
    C.focus();
  }

  // failed explains a reveal that did not return the secret. A wrong proof
  // and a vanished secret answer alike; asking again, without consuming,
  // tells which.
  function failed(r) {
    if (r.status === 429 && /passphrase/i.test(r.message) && r.retryAfter) {
      busy(false);
      lock(o.nowSeconds() + r.retryAfter);
      return;
    }
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
        lockState(c.data);
        if (!revealButton.disabled) {
          pass.focus();
          pass.select();
        }
      } else {
        showIncomplete(); // the fragment's key is not this secret's
      }
    });
  }

  function revealPlain(passphrase) {
    var params = {};
    if (passphrase) params.passphrase = passphrase;
    o.api("POST", "/api/v1/secret/" + key, params).then(function (r) {
      if (r.ok && r.data && typeof r.data.value === "string") {
        done();
        showText(r.data.value);
      } else {
        failed(r);
      }
    });
  }

  function revealEncrypted(passphrase) {
    zk.unlock(link, passphrase).then(function (u) {
      return o.api("POST", "/api/v1/secret/" + key, { passphrase: u.proof }).then(function (r) {
        if (!(r.ok && r.data && typeof r.data.value === "string")) {
          u.ikm.fill(0);
          failed(r);
          return;
        }
        return zk.openBytes(r.data.value, u.ikm).then(function (plain) {
          done();
          showContents(plain);
        }, function () {
          busy(false);
          showOnly("");
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
    if (lockedUntil > o.nowSeconds()) return;
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
    showIncomplete();
    return;
  }
  if (link && !zk.available()) {
    o.showError(T("needsSecure"));
    return;
  }

  show(loading, true);
  Promise.all([check(), o.loadConfig()]).then(function (r) {
    var c = r[0];
    cfg = r[1].config;
    show(loading, false);
    if (!c.ok) {
      if (c.status === 404) showGone();
      else o.showError(o.errorText(c));
      return;
    }
    var d = c.data || {};
    if (!link && d.proof === true) {
      showIncomplete(); // made in a browser, and the link lost its key
      return;
    }
    if (link && d.proof === false) link = null; // a v1 secret: the fragment means nothing
    // A browser-made secret always has a proof on the server; whether a
    // person must type a passphrase is in the link.
    needsPassphrase = link ? link.passphrase : d.passphrase_required === true;
    show($("passphrase-field"), needsPassphrase);
    if (typeof d.secret_ttl === "number") {
      $("waiting-expiry").textContent = o.fill(T("waitingExpiry"), { duration: o.formatDuration(d.secret_ttl) });
      var session = o.sessionNote(cfg, o.nowSeconds() + d.secret_ttl);
      $("waiting-session").textContent = session;
      show($("waiting-session"), session !== "");
    }
    showOnly("waiting");
    lockState(d);
  });
})();
