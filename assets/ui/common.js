// otslite UI: what every page shares. Each page then loads its own script,
// which finds these helpers on window.otslite.
//
// Rules: no inline code (the CSP forbids it); text goes into the page only
// through textContent and .value, never as HTML; secret values and
// passphrases never go to storage, cookies, URLs or the console, and live in
// variables only as long as a request needs them.
"use strict";

(function () {
  // Every string this script shows. Translating the UI means translating
  // this object and the HTML pages. {name} marks a value filled in later.
  var TEXT = {
    network: "Could not reach the server. Check your connection and try again.",
    generic: "Something went wrong. Please try again.",
    configFailed: "Could not load the server's settings. Defaults are shown; the server still checks every request.",
    tooMany: "Too many attempts. Please try again in {wait}.",
    tooManyNoWait: "Too many attempts. Please try again later.",
    emptySecret: "Type or paste the secret first.",
    secretTooLarge: "The secret is {over} bytes too long for this server.",
    byteCount: "{used} of {max} bytes",
    byteCountNoMax: "{used} bytes",
    passphraseShort: "The passphrase must be at least {min} characters long, or empty.",
    passphraseLong: "The passphrase must be at most {max} characters long.",
    passphraseMissing: "Enter the passphrase.",
    linkLives: "It can be opened once, within {duration} (until {time}).",
    copied: "Copied.",
    copyFailed: "Could not copy. Select the text and copy it yourself.",
    waitingExpiry: "If nobody opens it, it expires in {duration}.",
    wrongPassphrase: "That passphrase did not work. The secret is still there: check the passphrase and try again.",
    stateNew: "Waiting: the secret has not been opened yet.",
    stateReceived: "Opened at {time}.",
    stateReceivedNoTime: "Opened.",
    stateBurned: "Burned: the secret was destroyed before anyone opened it.",
    stateExpired: "Expired: nobody opened the secret in time, and it is gone.",
    stateUnknown: "Unknown state.",
    secretExpires: "Secret expires",
    receiptExpires: "Receipt expires",
    atTimeIn: "{time} (in {duration})",
    passphraseYes: "Required",
    passphraseNo: "None",
    burnTooLate: "The secret could not be burned: it was already opened, burned, or expired."
  };

  var LANG = document.documentElement.lang || "en";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : m;
    });
  }

  function $(id) {
    return document.getElementById(id);
  }

  function show(el, visible) {
    el.hidden = !visible;
  }

  // ---- formatting ----

  function formatNumber(n) {
    try {
      return new Intl.NumberFormat(LANG).format(n);
    } catch (e) {
      return String(n);
    }
  }

  function formatUnit(n, unit) {
    try {
      return new Intl.NumberFormat(LANG, { style: "unit", unit: unit, unitDisplay: "long" }).format(n);
    } catch (e) {
      return n + " " + unit + (n === 1 ? "" : "s");
    }
  }

  // formatDuration gives at most two units, largest first: "1 day 6 hours",
  // "45 minutes", "30 seconds".
  function formatDuration(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    var parts = [];
    if (d) parts.push(formatUnit(d, "day"));
    if (h) parts.push(formatUnit(h, "hour"));
    if (m && !d) parts.push(formatUnit(m, "minute"));
    if (!parts.length) parts.push(formatUnit(s % 60, "second"));
    return parts.slice(0, 2).join(" ");
  }

  function formatTime(unixSeconds) {
    var date = new Date(unixSeconds * 1000);
    try {
      return date.toLocaleString(LANG, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return date.toLocaleString();
    }
  }

  function nowSeconds() {
    return Math.floor(Date.now() / 1000);
  }

  // utf8Length counts the bytes of s in UTF-8 without making an encoded copy.
  function utf8Length(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length &&
        (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4;
        i++;
      } else {
        n += 3; // includes lone surrogates, sent as U+FFFD
      }
    }
    return n;
  }

  function codePoints(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
      n++;
    }
    return n;
  }

  // ---- the server ----

  // api sends one request and resolves to
  // {ok, status, data, message, retryAfter}. status is the intended status
  // of a v1 error (X-OTS-Intended-Status), 0 when the server was unreachable.
  function api(method, path, params) {
    var init = {
      method: method,
      cache: "no-store",
      credentials: "same-origin",
      redirect: "error",
      referrerPolicy: "no-referrer",
      headers: { "Accept": "application/json" }
    };
    if (params) init.body = new URLSearchParams(params);
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.ok) return { ok: true, status: res.status, data: data };
        var intended = parseInt(res.headers.get("X-OTS-Intended-Status") || "", 10);
        var retry = parseInt(res.headers.get("Retry-After") || "", 10);
        return {
          ok: false,
          status: intended > 0 ? intended : res.status,
          data: data,
          message: data && typeof data.message === "string" ? data.message : "",
          retryAfter: retry > 0 ? retry : 0
        };
      });
    }, function () {
      return { ok: false, status: 0, data: null, message: "", retryAfter: 0 };
    });
  }

  function errorText(r) {
    if (r.status === 0) return TEXT.network;
    if (r.status === 429) {
      return r.retryAfter ? fill(TEXT.tooMany, { wait: formatDuration(r.retryAfter) }) : TEXT.tooManyNoWait;
    }
    return r.message || TEXT.generic;
  }

  function showError(text) {
    var el = $("error");
    el.textContent = text;
    show(el, true);
  }

  function clearError() {
    var el = $("error");
    el.textContent = "";
    show(el, false);
  }

  // ---- shared controls ----

  // Checkboxes with data-reveal="<input id>" switch a password field between
  // hidden and shown.
  function wireRevealToggles() {
    var boxes = document.querySelectorAll("input[type=checkbox][data-reveal]");
    Array.prototype.forEach.call(boxes, function (box) {
      var target = $(box.getAttribute("data-reveal"));
      if (!target) return;
      box.checked = false;
      box.addEventListener("change", function () {
        target.type = box.checked ? "text" : "password";
      });
    });
  }

  function hidePasswords() {
    var boxes = document.querySelectorAll("input[type=checkbox][data-reveal]");
    Array.prototype.forEach.call(boxes, function (box) {
      var target = $(box.getAttribute("data-reveal"));
      box.checked = false;
      if (target) target.type = "password";
    });
  }

  // Buttons with data-copy="<field id>" copy that field's value, and report
  // in the [data-note-for] element beside it.
  function wireCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var id = button.getAttribute("data-copy");
      var field = $(id);
      var note = document.querySelector('[data-note-for="' + id + '"]');
      var timer = 0;
      button.addEventListener("click", function () {
        copyField(field).then(function (ok) {
          if (!note) return;
          note.textContent = ok ? TEXT.copied : TEXT.copyFailed;
          clearTimeout(timer);
          timer = setTimeout(function () { note.textContent = ""; }, 5000);
        });
      });
    });
  }

  function copyField(field) {
    function fallback() {
      field.focus();
      field.select();
      try {
        return document.execCommand("copy");
      } catch (e) {
        return false;
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value).then(
        function () { return true; },
        function () { return fallback(); });
    }
    return Promise.resolve(fallback());
  }

  function clearCopyNotes() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-note-for]"), function (n) {
      n.textContent = "";
    });
  }

  // keyFromPath returns the key in /<prefix>/<key>, or "" when the path has
  // none or it is not a well-formed key.
  function keyFromPath(prefixes) {
    var parts = location.pathname.split("/");
    if (parts.length < 3 || prefixes.indexOf(parts[1]) < 0) return "";
    var key = parts[2];
    return /^[0-9a-z]{1,128}$/.test(key) ? key : "";
  }

  function setBusy(form, busy, buttons) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    buttons.forEach(function (b) { b.disabled = busy; });
  }

  wireRevealToggles();
  wireCopyButtons();

  window.otslite = Object.freeze({
    TEXT: TEXT,
    $: $,
    show: show,
    fill: fill,
    formatNumber: formatNumber,
    formatDuration: formatDuration,
    formatTime: formatTime,
    nowSeconds: nowSeconds,
    utf8Length: utf8Length,
    codePoints: codePoints,
    api: api,
    errorText: errorText,
    showError: showError,
    clearError: clearError,
    hidePasswords: hidePasswords,
    clearCopyNotes: clearCopyNotes,
    keyFromPath: keyFromPath,
    setBusy: setBusy
  });
})();
