// otslite UI, receipt page (/receipt/<key>, /private/<key>): state, wrong
// passphrases and locks, attempts to open the link after the secret was
// gone (someone who had the link too), and burn. The page updates itself:
// at once when the tab becomes visible again, and by polling with backoff
// while it is visible; once the secret is read, burned or expired, once a
// minute, for attempts on the link that is gone.
//
// A receipt link made by the create page carries the secret link's
// fragment, so this page can rebuild the whole secret link. Without the
// fragment it says the link is incomplete, and burning still works: for a
// browser-made secret ("proof" in the peek) the server needs the receipt
// key alone, and a passphrase is asked for only when the sender set one on
// a secret made through the API.
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

  // Polling: the first check again after POLL_FIRST ms, each later wait
  // POLL_FACTOR times longer, at most POLL_MAX ms.
  var POLL_FIRST = 2000;
  var POLL_FACTOR = 2;
  var POLL_MAX = 60000;
  // POLL_LATE is the wait between checks once the state is final: an
  // attempt on the gone link still shows.
  var POLL_LATE = 60000;

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
    var proof = null; // from the peek: true, false, or null when unknown
    var peekedKey = "";
    var needsPassphrase = false; // a person must type one to burn
    var final = false; // read, burned or expired
    var gone = false; // the receipt itself is gone
    var pollTimer = 0;
    var pollDelay = POLL_FIRST;
    var loadingNow = null;

    function showMissing() {
      final = gone = true;
      stopPolling();
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

    // passphraseInfo says whether a passphrase guards the secret.
    function passphraseInfo(guarded) {
      if (link) return link.passphrase ? T("passphraseYes") : guarded ? T("passphraseKey") : T("passphraseNo");
      if (proof === true) return T("passphraseUnknown");
      return guarded ? T("passphraseYes") : T("passphraseNo");
    }

    // attempts shows the wrong passphrases and the lock the server reports
    // (GET /api/otslite/receipt/<key>); without that answer, nothing.
    function attempts(a) {
      var n = a && typeof a.failed_attempts === "number" ? a.failed_attempts : -1;
      show($("attempts-label"), n >= 0);
      show($("attempts"), n >= 0);
      if (n === 0) $("attempts").textContent = T("attemptsNone");
      if (n > 0) {
        var last = typeof a.last_failed === "number" && a.last_failed > 0 ? formatTime(a.last_failed) : "";
        $("attempts").textContent = o.P("attempts", n, { time: last });
      }
      var until = a && typeof a.locked_until === "number" ? a.locked_until : 0;
      var locked = until > nowSeconds();
      $("lock-note").textContent = locked ? fill(T("lockNote"), { time: formatTime(until) }) : "";
      show($("lock-note"), locked);
    }

    function render(rc, a) {
      var now = nowSeconds();
      var isNew = rc.state === "new";
      var guarded = rc.passphrase_required === true;
      if (proof === true) needsPassphrase = false; // the receipt key is enough
      else if (proof === false) needsPassphrase = guarded;
      else needsPassphrase = link ? link.passphrase : guarded;
      $("state-text").textContent = stateText(rc);
      $("created").textContent = typeof rc.created === "number" ? formatTime(rc.created) : "";
      var left = isNew && typeof rc.secret_ttl === "number" ? rc.secret_ttl : rc.metadata_ttl;
      $("expiry-label").textContent = isNew ? T("secretExpires") : T("receiptExpires");
      $("expiry").textContent = typeof left === "number"
        ? fill(T("atTimeIn"), { time: formatTime(now + left), duration: formatDuration(left) }) : "";
      $("passphrase-info").textContent = passphraseInfo(guarded);
      attempts(isNew ? a : null);
      o.lateNotice($("late"), a, rc.state);
      var waiting = isNew && typeof rc.secret_key === "string" && rc.secret_key !== "";
      // Without the fragment, a browser-made secret's link cannot be
      // rebuilt: the receipt says the link is incomplete.
      var cut = !link && (proof === true || (proof === null && guarded));
      $("share-link").value = waiting && !cut
        ? location.origin + "/secret/" + rc.secret_key + (link ? "#" + link.fragment : "") : "";
      show($("share"), waiting && !cut);
      show($("share-note"), waiting && cut);
      show($("burn-passphrase-field"), needsPassphrase);
      if (!isNew) closeBurn();
      show(burnArea, isNew);
      show(loading, false);
      show(section, true);
      final = !isNew;
    }

    // peekProof learns, once, whether the waiting secret was made in a
    // browser. The peek is the recipient's endpoint: it may be refused
    // (opening hours, addresses), and then the answer stays unknown.
    function peekProof(rc) {
      if (rc.state !== "new" || typeof rc.secret_key !== "string" || rc.secret_key === peekedKey) {
        return Promise.resolve();
      }
      peekedKey = rc.secret_key;
      return api("GET", "/api/otslite/secret/" + rc.secret_key).then(function (p) {
        if (p.ok && p.data && typeof p.data.proof === "boolean") proof = p.data.proof;
      });
    }

    function load() {
      if (loadingNow) return loadingNow;
      loadingNow = Promise.all([
        api("GET", "/api/v1/receipt/" + key),
        api("GET", "/api/otslite/receipt/" + key)
      ]).then(function (r) {
        var rc = r[0];
        if (rc.ok && rc.data) {
          return peekProof(rc.data).then(function () {
            render(rc.data, r[1].ok ? r[1].data : null);
            return rc;
          });
        }
        if (rc.status === 404) {
          showMissing();
        } else {
          show(loading, false);
          showError(errorText(rc));
        }
        return rc;
      }).then(function (rc) {
        loadingNow = null;
        return rc;
      });
      return loadingNow;
    }

    // ---- updating by itself ----

    function stopPolling() {
      clearTimeout(pollTimer);
      pollTimer = 0;
      section.setAttribute("data-poll", "off");
    }

    // schedule plans the next check, unless the receipt is gone or the tab
    // is hidden (then visibility brings the next one).
    function schedule() {
      clearTimeout(pollTimer);
      if (gone || document.visibilityState === "hidden") {
        stopPolling();
        return;
      }
      if (final) pollDelay = POLL_LATE;
      section.setAttribute("data-poll", String(pollDelay));
      pollTimer = setTimeout(function () {
        pollDelay = Math.min(pollDelay * POLL_FACTOR, final ? POLL_LATE : POLL_MAX);
        if (burnForm.hidden) load().then(schedule);
        else schedule(); // not while the sender is deciding to burn
      }, pollDelay);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState !== "visible" || gone) {
        if (document.visibilityState === "hidden") stopPolling();
        return;
      }
      pollDelay = final ? POLL_LATE : POLL_FIRST;
      load().then(schedule);
    });

    if (!key) {
      showMissing();
      return;
    }

    // ---- burning ----

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

    // burnParams resolves to the burn request's fields: none when the
    // server needs the receipt key alone, the proof for a browser-made
    // secret on a server that still checks it, else the passphrase typed.
    function burnParams(passphrase) {
      if (proof === true) return Promise.resolve({});
      if (!link) return Promise.resolve(passphrase ? { passphrase: passphrase } : {});
      return zk.unlock(link, passphrase).then(function (u) {
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
          render(r.data.state, null);
          schedule(); // attempts on the burned link still show
          show($("burned-note"), true);
          $("state-text").focus();
          return;
        }
        if (r.status === 404) {
          closeBurn();
          load().then(function () {
            showError(T("burnTooLate"));
            schedule();
          });
          return;
        }
        if (r.status === 400 && !needsPassphrase) {
          // The server wants a passphrase after all (a secret made
          // through the API with one): ask for it now.
          needsPassphrase = true;
          show($("burn-passphrase-field"), true);
          showError(T("burnNeedsPassphrase"));
          burnPass.focus();
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
      pollDelay = POLL_FIRST;
      load().then(function () {
        refresh.disabled = false;
        schedule();
      });
    });

    show(loading, true);
    if (link && !zk.available()) {
      link = null; // the receipt still shows; burning asks for what it can
    }
    load().then(schedule);
  }

  initReceipt();
})();
