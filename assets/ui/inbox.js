// otslite UI, the requester's page (/inbox/<key>#<private key, public
// key>): where a
// request stands, and, once answered, the answer, read once. The private
// key in the fragment, with the answerer's public key the server holds,
// gives the key of the answer's envelope (zk.js); its proof fetches the
// envelope once, and it is decrypted here. The page checks by itself
// until an answer comes (at once when the tab is shown again).
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var C = window.otsliteContents;
  var T = o.T;
  var fill = o.fill;
  var $ = o.$;
  var show = o.show;

  var POLL_FIRST = 2000;
  var POLL_FACTOR = 2;
  var POLL_MAX = 30000;

  var key = o.keyFromPath(["inbox"]);
  var priv = zk.parseKeyFragment(location.hash, [zk.PRIVATE_BYTES + zk.PUBLIC_BYTES, zk.PRIVATE_BYTES]);
  var section = $("inbox");
  var readButton = $("read");
  var state = "";
  var answerPub = null;
  var pollTimer = 0;
  var pollDelay = POLL_FIRST;
  var reading = false;

  function showOnly(id) {
    ["loading", "incomplete", "inbox", "revealed", "missing"].forEach(function (s) {
      show($(s), s === id);
    });
  }

  function render(d) {
    var before = state;
    state = d.state;
    var text;
    switch (d.state) {
      case "waiting": text = T("inboxWaiting"); break;
      case "answered": text = T("inboxAnswered"); break;
      case "read": text = d.read > 0 ? fill(T("inboxRead"), { time: o.formatTime(d.read) }) : T("inboxReadNoTime"); break;
      case "expired": text = T("inboxExpired"); break;
      default: text = T("stateUnknown");
    }
    $("inbox-state").textContent = text;
    $("asked").textContent = d.created > 0 ? o.formatTime(d.created) : "";
    var until = d.state === "answered" ? d.answer_expires : d.deadline;
    $("until-label").textContent = d.state === "answered" ? T("answerExpires") : T("requestExpires");
    $("until").textContent = until > 0 && (d.state === "waiting" || d.state === "answered")
      ? fill(T("atTimeIn"), { time: o.formatTime(until), duration: o.formatDuration(until - o.nowSeconds()) }) : "";
    show($("until-label"), $("until").textContent !== "");
    show($("until"), $("until").textContent !== "");
    answerPub = d.state === "answered" && typeof d["public"] === "string" ? zk.parseKeyFragment(d["public"], [zk.PUBLIC_BYTES]) || null : null;
    show($("read-area"), d.state === "answered");
    show($("read-note"), d.state === "answered");
    show($("watch-note"), d.state === "waiting");
    showOnly("inbox");
    if (before === "waiting" && d.state === "answered") $("inbox-state").focus();
  }

  function load() {
    return o.api("GET", "/api/otslite/inbox/" + key).then(function (r) {
      if (r.ok && r.data) render(r.data);
      else if (r.status === 404) {
        state = "gone";
        showOnly("missing");
      } else {
        show($("loading"), false);
        o.showError(o.errorText(r));
      }
    });
  }

  function schedule() {
    clearTimeout(pollTimer);
    if (state !== "waiting" || document.visibilityState === "hidden") {
      section.setAttribute("data-poll", "off");
      return;
    }
    section.setAttribute("data-poll", String(pollDelay));
    pollTimer = setTimeout(function () {
      pollDelay = Math.min(pollDelay * POLL_FACTOR, POLL_MAX);
      load().then(schedule);
    }, pollDelay);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || state !== "waiting" || reading) return;
    pollDelay = POLL_FIRST;
    load().then(schedule);
  });

  readButton.addEventListener("click", function () {
    o.clearError();
    if (!answerPub) {
      o.showError(T("generic"));
      return;
    }
    reading = true;
    o.setBusy(section, true, [readButton]);
    var k = null;
    zk.openAnswerKey(priv, answerPub).then(function (key2) {
      k = key2;
      return zk.keyProof(k);
    }).then(function (proof) {
      return o.api("POST", "/api/otslite/inbox/" + key + "/reveal", { passphrase: proof });
    }).then(function (r) {
      if (!(r.ok && r.data && typeof r.data.value === "string")) {
        k.fill(0);
        o.setBusy(section, false, [readButton]);
        reading = false;
        if (r.status === 404) {
          // Read already, gone, or sealed to another key: ask again.
          return load().then(function () {
            if (state === "answered") o.showError(T("answerNotOurs"));
          });
        }
        o.showError(o.errorText(r));
        return;
      }
      return zk.openBytes(r.data.value, k).then(function (plain) {
        o.setBusy(section, false, [readButton]);
        var c;
        try {
          c = C.read(plain);
        } catch (e) {
          plain.fill(0);
          showOnly("");
          o.showError(C.problem(e));
          return;
        }
        C.show(c, plain);
        showOnly("revealed");
        C.focus();
      }, function () {
        o.setBusy(section, false, [readButton]);
        showOnly("");
        o.showError(T("answerNotOurs"));
      });
    }).catch(function () {
      if (k) k.fill(0);
      o.setBusy(section, false, [readButton]);
      reading = false;
      o.showError(T("generic"));
    });
  });

  if (!key || !priv) {
    showOnly("incomplete");
    $("incomplete-title").focus();
    return;
  }
  if (!zk.available()) {
    o.showError(T("needsSecure"));
    return;
  }
  show($("loading"), true);
  load().then(schedule);
})();
