// otslite UI, group receipt (/group/<key>): the links of one secret for
// several recipients, or the parts of a split secret (the link made by the
// create page says how many parts rebuild it: "#k<k>"). For each link: its
// state and times, wrong passphrases and locks, and attempts to open it
// after it was gone; each can be burned alone, or every waiting one at
// once. The page updates itself as the receipt page does, and once every
// link is read, burned or expired, once a minute (for late attempts).
"use strict";

(function () {
  var o = window.otslite;
  var T = o.T;
  var fill = o.fill;
  var $ = o.$;
  var show = o.show;

  var POLL_FIRST = 2000;
  var POLL_FACTOR = 2;
  var POLL_MAX = 60000;
  var POLL_LATE = 60000;

  var key = o.keyFromPath(["group"]);
  var km = /^#k([0-9]{1,3})$/.exec(location.hash);
  var k = km ? parseInt(km[1], 10) : 0; // parts that rebuild the secret; 0: not a split, or not known
  var section = $("group");
  var list = $("group-links");
  var burnForm = $("burn-form");
  var burnConfirm = $("burn-confirm");
  var burnCancel = $("burn-cancel");
  var burnAll = $("burn-all");
  var items = [];
  var burning = null; // the link numbers the open confirmation would burn
  var burnFrom = null; // the button that opened it
  var final = false;
  var gone = false;
  var pollTimer = 0;
  var pollDelay = POLL_FIRST;
  var loadingNow = null;
  var waiting = [];

  function name(i, n) {
    return k ? fill(T("partLabel"), { x: o.formatNumber(i), n: o.formatNumber(n) }) : fill(T("linkLabel"), { i: o.formatNumber(i) });
  }

  function stateOf(l) {
    switch (l.state) {
      case "new":
        return l.secret_expires > 0 ? fill(T("linkWaiting"), { time: o.formatTime(l.secret_expires) }) : T("stateNew");
      case "received":
        return l.received > 0 ? fill(T("stateReceived"), { time: o.formatTime(l.received) }) : T("stateReceivedNoTime");
      case "burned":
        return l.updated > 0 ? fill(T("linkBurned"), { time: o.formatTime(l.updated) }) : T("stateBurned");
      case "expired":
        return T("stateExpired");
    }
    return T("stateUnknown");
  }

  // item makes the list entry of link i (from 1), once.
  function item(i) {
    var li = document.createElement("li");
    li.className = "link-state";
    li.id = "link-" + i;
    var h = document.createElement("h3");
    h.id = "link-" + i + "-name";
    var state = document.createElement("p");
    state.className = "state-line";
    var attempts = document.createElement("p");
    attempts.className = "hint";
    var lock = document.createElement("p");
    lock.className = "notice warn";
    var late = document.createElement("div");
    late.className = "notice alert";
    late.setAttribute("role", "status");
    var actions = document.createElement("div");
    actions.className = "actions";
    var burn = document.createElement("button");
    burn.type = "button";
    burn.className = "danger small";
    burn.textContent = T("burn");
    burn.setAttribute("aria-describedby", h.id);
    burn.addEventListener("click", function () {
      ask([i], fill(T("burnLinkQuestion"), { name: h.textContent }), li, burn);
    });
    actions.appendChild(burn);
    [h, state, attempts, lock, late, actions].forEach(function (e) { li.appendChild(e); });
    list.appendChild(li);
    return { li: li, h: h, state: state, attempts: attempts, lock: lock, late: late, burn: burn };
  }

  function render(g) {
    var links = Array.isArray(g.links) ? g.links : [];
    var n = links.length;
    while (items.length < n) items.push(item(items.length + 1));
    var opened = 0;
    waiting = [];
    links.forEach(function (l, x) {
      var it = items[x];
      var i = x + 1;
      var label = name(i, n);
      it.h.textContent = label;
      it.state.textContent = stateOf(l);
      it.li.setAttribute("data-state", l.state);
      var fails = typeof l.failed_attempts === "number" ? l.failed_attempts : 0;
      it.attempts.textContent = fails > 0 ? fill(T("linkAttempts"), { attempts: o.P("attempts", fails, { time: l.last_failed > 0 ? o.formatTime(l.last_failed) : "" }) }) : "";
      show(it.attempts, fails > 0);
      var locked = l.state === "new" && l.locked_until > o.nowSeconds();
      it.lock.textContent = locked ? fill(T("lockNote"), { time: o.formatTime(l.locked_until) }) : "";
      show(it.lock, locked);
      o.lateNotice(it.late, l, l.state);
      show(it.burn, l.state === "new");
      if (l.state === "received") opened++;
      if (l.state === "new") waiting.push(i);
    });
    $("group-state").textContent = k ? o.P("groupParts", n, { opened: o.formatNumber(opened), k: o.formatNumber(k) }) : o.P("groupLinks", n, { opened: o.formatNumber(opened) });
    show($("group-enough"), k > 0 && opened >= k);
    $("group-enough").textContent = k > 0 && opened >= k ? T("groupEnough") : "";
    $("created").textContent = g.created > 0 ? o.formatTime(g.created) : "";
    $("expiry").textContent = g.expires > 0 ? fill(T("atTimeIn"), { time: o.formatTime(g.expires), duration: o.formatDuration(g.expires - o.nowSeconds()) }) : "";
    show(burnAll, waiting.length > 1);
    if (burning) {
      burning = burning.filter(function (i) { return waiting.indexOf(i) >= 0; });
      if (!burning.length) closeBurn();
    }
    final = waiting.length === 0;
    show($("loading"), false);
    show(section, true);
  }

  function showMissing() {
    final = gone = true;
    stopPolling();
    show($("loading"), false);
    show(section, false);
    show($("missing"), true);
  }

  function load() {
    if (loadingNow) return loadingNow;
    loadingNow = o.api("GET", "/api/otslite/group/" + key).then(function (r) {
      loadingNow = null;
      if (r.ok && r.data) render(r.data);
      else if (r.status === 404) showMissing();
      else {
        show($("loading"), false);
        o.showError(o.errorText(r));
      }
      return r;
    });
    return loadingNow;
  }

  // ---- updating by itself ----

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = 0;
    section.setAttribute("data-poll", "off");
  }

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

  // ---- burning ----

  // ask opens the confirmation for burning links: inside el (a link's
  // entry), or after it.
  function ask(links, question, el, from) {
    o.clearError();
    show($("burned-note"), false);
    burning = links;
    burnFrom = from;
    $("burn-question-text").textContent = question;
    if (el.tagName === "LI") el.appendChild(burnForm);
    else el.parentNode.insertBefore(burnForm, el.nextSibling);
    show(burnForm, true);
    burnConfirm.focus();
  }

  function closeBurn() {
    burning = null;
    show(burnForm, false);
  }

  burnCancel.addEventListener("click", function () {
    var from = burnFrom;
    closeBurn();
    if (from) from.focus();
  });

  burnAll.addEventListener("click", function () {
    ask(waiting.slice(), T("burnAllQuestion"), burnAll.parentNode, burnAll);
  });

  burnForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    var links = burning || [];
    o.setBusy(burnForm, true, [burnConfirm, burnCancel]);
    var burned = 0, late = 0, failed = null;
    function next(x) {
      if (x === links.length) return Promise.resolve();
      return o.api("POST", "/api/otslite/group/" + key + "/burn/" + links[x]).then(function (r) {
        if (r.ok) burned++;
        else if (r.status === 404) late++;
        else failed = failed || r;
        return next(x + 1);
      });
    }
    next(0).then(function () {
      o.setBusy(burnForm, false, [burnConfirm, burnCancel]);
      closeBurn();
      return load();
    }).then(function () {
      if (failed) o.showError(o.errorText(failed));
      else if (late) o.showError(T("burnTooLate"));
      if (burned) {
        $("burned-note").textContent = o.P("burnedLinks", burned);
        show($("burned-note"), true);
      }
      $("group-state").focus();
      schedule();
    });
  });

  $("refresh").addEventListener("click", function () {
    o.clearError();
    show($("burned-note"), false);
    $("refresh").disabled = true;
    pollDelay = final ? POLL_LATE : POLL_FIRST;
    load().then(function () {
      $("refresh").disabled = false;
      schedule();
    });
  });

  if (!key) {
    showMissing();
    return;
  }
  show($("loading"), true);
  load().then(schedule);
})();
