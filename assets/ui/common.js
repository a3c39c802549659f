// otslite UI: what every page shares. Each page then loads its own script,
// which finds these helpers on window.otslite.
//
// Rules: no inline code (the CSP forbids it); text goes into the page only
// through textContent and .value, never as HTML; secret values and
// passphrases never go to storage, cookies, URLs or the console, and live in
// variables only as long as a request needs them. Every text shown comes
// from the page's catalog (window.otsliteText, see T).
"use strict";

(function () {
  var TEXT = window.otsliteText || {};

  // T returns the catalog text called name.
  function T(name) {
    return Object.prototype.hasOwnProperty.call(TEXT, name) ? TEXT[name] : name;
  }

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

  // loadConfig resolves to the server's limits: {config, ok}. When they
  // cannot be read, ok is false and safe defaults stand in; the server
  // checks every request anyway.
  function loadConfig() {
    var cfg = { default_ttl: 3600, max_ttl: 604800, max_secret_size: 65536, passphrase_min: 4, passphrase_max: 128 };
    return api("GET", "/api/otslite/config").then(function (r) {
      if (!r.ok || !r.data) return { config: cfg, ok: false };
      Object.keys(cfg).forEach(function (k) {
        if (typeof r.data[k] === "number" && r.data[k] >= 0) cfg[k] = r.data[k];
      });
      return { config: cfg, ok: true };
    });
  }

  function errorText(r) {
    if (r.status === 0) return T("network");
    if (r.status === 429) {
      return r.retryAfter ? fill(T("tooMany"), { wait: formatDuration(r.retryAfter) }) : T("tooManyNoWait");
    }
    if (r.status === 503) return T("busy");
    if (r.status === 413) return T("tooLarge");
    return T("generic"); // the server's own messages are not translated
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

  // Buttons with data-reveal="<input id>" switch a password field between
  // hidden and shown.
  function wireRevealToggles() {
    each("button[data-reveal]", function (button) {
      var target = $(button.getAttribute("data-reveal"));
      if (!target) return;
      button.addEventListener("click", function () {
        setRevealed(button, target, target.type === "password");
      });
    });
  }

  function setRevealed(button, target, shown) {
    target.type = shown ? "text" : "password";
    button.textContent = shown ? T("hide") : T("show");
  }

  function hidePasswords() {
    each("button[data-reveal]", function (button) {
      var target = $(button.getAttribute("data-reveal"));
      if (target) setRevealed(button, target, false);
    });
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  // Buttons with data-copy="<field id>" copy that field's value, and report
  // in the [data-note-for] element beside it.
  function wireCopyButtons() {
    each("button[data-copy]", function (button) {
      var id = button.getAttribute("data-copy");
      var field = $(id);
      var note = document.querySelector('[data-note-for="' + id + '"]');
      var timer = 0;
      button.addEventListener("click", function () {
        copyField(field).then(function (ok) {
          if (!note) return;
          note.textContent = ok ? T("copied") : T("copyFailed");
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
    each("[data-note-for]", function (n) {
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

  // ---- theme and language ----

  var STORE_THEME = "otslite.theme";
  var STORE_LOCALE = "otslite.locale";

  function remember(name, value) {
    try {
      sessionStorage.setItem(name, value);
    } catch (e) {
      // storage disabled: the choice lasts for this page only
    }
  }

  function isDark() {
    var t = document.documentElement.getAttribute("data-theme");
    if (t) return t === "dark";
    return !!(window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function wireTheme() {
    var button = $("theme-toggle");
    if (!button) return;
    function sync() { button.setAttribute("aria-pressed", isDark() ? "true" : "false"); }
    button.addEventListener("click", function () {
      var next = isDark() ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      remember(STORE_THEME, next);
      sync();
    });
    if (window.matchMedia) {
      var mq = matchMedia("(prefers-color-scheme: dark)");
      if (mq.addEventListener) mq.addEventListener("change", sync);
    }
    sync();
    show(button, true);
  }

  // The language menu's links keep the fragment (a secret link's key), and
  // the choice is remembered for this tab. Links to other pages carry a
  // language that came in the address (?locale=).
  function wireLanguage() {
    each("a[data-locale]", function (a) {
      var loc = a.getAttribute("data-locale");
      a.href = "?locale=" + encodeURIComponent(loc) + location.hash;
      a.addEventListener("click", function () { remember(STORE_LOCALE, loc); });
    });
    var m = /[?&]locale=([^&#]*)/.exec(location.search);
    if (!m) return;
    var q = "locale=" + m[1];
    each("a[href^='/']", function (a) {
      var href = a.getAttribute("href");
      if (href.indexOf("//") === 0 || href.indexOf("?") >= 0) return;
      var hash = href.indexOf("#");
      a.setAttribute("href", hash < 0 ? href + "?" + q : href.slice(0, hash) + "?" + q + href.slice(hash));
    });
  }

  function pageLocale() {
    return document.documentElement.lang || "en";
  }

  wireTheme();
  wireLanguage();
  wireRevealToggles();
  wireCopyButtons();

  window.otslite = Object.freeze({
    T: T,
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
    loadConfig: loadConfig,
    errorText: errorText,
    showError: showError,
    clearError: clearError,
    hidePasswords: hidePasswords,
    pageLocale: pageLocale,
    clearCopyNotes: clearCopyNotes,
    keyFromPath: keyFromPath,
    setBusy: setBusy
  });
})();
