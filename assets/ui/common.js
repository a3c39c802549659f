// otslite UI: what every page shares. Each page then loads its own script,
// which finds these helpers on window.otslite.
//
// Rules: no inline code (the CSP forbids it); text goes into the page only
// through textContent and .value, never as HTML; secret values and
// passphrases never go to storage, cookies, URLs or the console, and live in
// variables only as long as a request needs them. The one credential kept
// is a create token the sender typed, in this tab's sessionStorage only
// (see credential). Every text shown comes from the page's catalog
// (window.otsliteText, see T and P).
"use strict";

(function () {
  var TEXT = window.otsliteText || {};

  // T returns the catalog text called name.
  function T(name) {
    return Object.prototype.hasOwnProperty.call(TEXT, name) ? TEXT[name] : name;
  }

  var LANG = document.documentElement.lang || "en";

  var plurals = null;
  try {
    plurals = new Intl.PluralRules(LANG);
  } catch (e) {
    plurals = null;
  }

  // P returns the catalog text called name in the plural form that n takes
  // in this language (CLDR's rules, as Intl.PluralRules applies them), with
  // {n} and any other values filled in.
  function P(name, n, values) {
    var cat = plurals ? plurals.select(n) : (n === 1 ? "one" : "other");
    var key = name + "|" + cat;
    if (!Object.prototype.hasOwnProperty.call(TEXT, key)) key = name + "|other";
    var v = { n: formatNumber(n) };
    if (values) Object.keys(values).forEach(function (k) { v[k] = values[k]; });
    return fill(Object.prototype.hasOwnProperty.call(TEXT, key) ? TEXT[key] : name, v);
  }

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

  // formatBytes gives n with the language's word for bytes: "1,024 bytes".
  function formatBytes(n) {
    return formatUnit(n, "byte");
  }

  function formatUnit(n, unit) {
    try {
      return new Intl.NumberFormat(LANG, { style: "unit", unit: unit, unitDisplay: "long" }).format(n);
    } catch (e) {
      return n + " " + unit + (n === 1 ? "" : "s");
    }
  }

  // formatSize gives a file's size as people read it: bytes below a
  // kilobyte, else kilobytes or megabytes (of 1000, as the units' names
  // say), with at most one decimal.
  function formatSize(n) {
    if (n < 1000) return formatBytes(n);
    var unit = n < 1e6 ? "kilobyte" : "megabyte";
    var v = n / (unit === "kilobyte" ? 1e3 : 1e6);
    try {
      return new Intl.NumberFormat(LANG, { style: "unit", unit: unit, unitDisplay: "short", maximumFractionDigits: 1 }).format(v);
    } catch (e) {
      return (Math.round(v * 10) / 10) + (unit === "kilobyte" ? " kB" : " MB");
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
  // auth, when given, is an Authorization header value. params go as a
  // form, or with asJSON as a JSON object: envelopes of files are long,
  // and JSON carries their characters as they are.
  function api(method, path, params, auth, asJSON) {
    var init = {
      method: method,
      cache: "no-store",
      credentials: "same-origin",
      redirect: "error",
      referrerPolicy: "no-referrer",
      headers: { "Accept": "application/json" }
    };
    if (auth) init.headers.Authorization = auth;
    if (params && asJSON) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(params);
    } else if (params) {
      init.body = new URLSearchParams(params);
    }
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
  // checks every request anyway. tokens_required and session_end (unix
  // seconds, 0 for none) are read when the server sends them, and so are
  // max_file_size (files and text one secret carries; 0: no files),
  // max_envelope_size (the longest envelope taken) and max_links.
  function loadConfig() {
    var cfg = { default_ttl: 3600, max_ttl: 604800, max_secret_size: 65536, passphrase_min: 4, passphrase_max: 128, session_end: 0, tokens_required: false,
      max_file_size: 0, max_envelope_size: 0, max_links: 20 };
    return api("GET", "/api/otslite/config").then(function (r) {
      if (!r.ok || !r.data) return { config: cfg, ok: false };
      Object.keys(cfg).forEach(function (k) {
        var v = r.data[k];
        if (typeof cfg[k] === "number" && typeof v === "number" && v >= 0) cfg[k] = v;
        if (typeof cfg[k] === "boolean" && typeof v === "boolean") cfg[k] = v;
      });
      return { config: cfg, ok: true };
    });
  }

  // sessionNote is the text saying when the server's session ends, when
  // that comes no later than a minute after `until` (unix seconds); else "".
  function sessionNote(cfg, until) {
    var end = cfg && cfg.session_end;
    if (!end || end > until + 60) return "";
    var left = end - nowSeconds();
    return fill(T("sessionEnds"), { time: formatTime(end), duration: formatDuration(left) });
  }

  // errorText turns a refusal into the page's words. The v1 API's messages
  // are fixed (see handler/errors.go and policy.go); the ones known here are
  // said in the visitor's language, with the values they carry (the next
  // opening hour, when to retry, the size limit), and any other is shown as
  // the server wrote it.
  function errorText(r) {
    var msg = r.message || "";
    var m;
    switch (r.status) {
      case 0:
        return T("network");
      case 401:
        return T("tokenRejected");
      case 403:
        if (/^Creating secrets/.test(msg)) return T("createDenied");
        if (/^Opening secrets/.test(msg)) return T("revealDenied");
        m = /^Secrets can be opened (.+?)(?:; next at .*)?$/.exec(msg);
        if (m && r.retryAfter) {
          return fill(T("hoursNext"), { hours: m[1], time: formatTime(nowSeconds() + r.retryAfter), duration: formatDuration(r.retryAfter) });
        }
        if (m) return fill(T("hours"), { hours: m[1] });
        break;
      case 413:
        m = /maximum size of (\d+) bytes/.exec(msg);
        if (m) return fill(T("tooLarge"), { max: formatBytes(parseInt(m[1], 10)) });
        break;
      case 421:
        return T("misdirected");
      case 429:
        if (/passphrase/i.test(msg) && r.retryAfter) {
          return fill(T("locked"), { time: formatTime(nowSeconds() + r.retryAfter), duration: formatDuration(r.retryAfter) });
        }
        if (/credential/i.test(msg) && r.retryAfter) return fill(T("authLimited"), { wait: formatDuration(r.retryAfter) });
        return r.retryAfter ? fill(T("tooMany"), { wait: formatDuration(r.retryAfter) }) : T("tooManyNoWait");
      case 503:
        if (/full/i.test(msg)) return T("full");
        if (/shutting down/i.test(msg)) return T("closing");
        return T("busy");
    }
    if (msg) return fill(T("serverSaid"), { message: msg });
    return T("generic");
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
    each("button[data-copy]", wireCopy);
  }

  // wireCopy wires one such button (pages call it for the ones they add).
  function wireCopy(button) {
    var id = button.getAttribute("data-copy");
    var timer = 0;
    button.addEventListener("click", function () {
      var note = document.querySelector('[data-note-for="' + id + '"]');
      copyField($(id)).then(function (ok) {
        if (!note) return;
        note.textContent = ok ? T("copied") : T("copyFailed");
        clearTimeout(timer);
        timer = setTimeout(function () { note.textContent = ""; }, 5000);
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

  // download saves bytes (or a string) as a file the user asked for,
  // through a blob URL revoked once the download has surely started:
  // nothing is written anywhere but where the browser saves downloads.
  function download(data, name, type) {
    var url = URL.createObjectURL(new Blob([data], { type: type || "application/octet-stream" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  // ---- interception alerts ----

  // lateNotice fills el (a .notice) with the attempts to open a link after
  // its secret was gone, as a receipt reports them (late_attempts: [{at,
  // net}], oldest first; late_total: all of them), newest first; state is
  // the secret's ("received", "burned" or "expired"). It hides el when
  // there were none.
  function lateNotice(el, a, state) {
    var list = a && Array.isArray(a.late_attempts) ? a.late_attempts : [];
    var total = a && typeof a.late_total === "number" ? Math.max(a.late_total, list.length) : list.length;
    el.textContent = "";
    show(el, total > 0);
    if (!total) return;
    var head = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = state === "burned" ? T("lateBurned") : state === "expired" ? T("lateExpired") : T("lateRead");
    head.appendChild(strong);
    el.appendChild(head);
    var ul = document.createElement("ul");
    list.slice().reverse().forEach(function (x) {
      var li = document.createElement("li");
      var time = typeof x.at === "number" ? formatTime(x.at) : "";
      var net = typeof x.net === "string" ? x.net : "";
      li.textContent = net ? fill(T("lateAttempt"), { time: time, net: net }) : time;
      if (net) li.setAttribute("data-net", net);
      ul.appendChild(li);
    });
    el.appendChild(ul);
    if (total > list.length) {
      var more = document.createElement("p");
      more.textContent = P("lateMore", total - list.length);
      el.appendChild(more);
    }
    var advice = document.createElement("p");
    advice.textContent = T("lateAdvice");
    el.appendChild(advice);
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

  // The theme toggle says what it does: "Dark theme" while the page is
  // light, "Light theme" while it is dark (its icon follows).
  function wireTheme() {
    var button = $("theme-toggle");
    if (!button) return;
    var label = button.querySelector(".theme-label");
    function sync() {
      var dark = isDark();
      button.setAttribute("data-to", dark ? "light" : "dark");
      label.textContent = dark ? T("themeLight") : T("themeDark");
    }
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

  // credential is the create token the sender typed for this server, as
  // {user, token}, or null. It is kept in this tab's sessionStorage only
  // (gone when the tab closes) and sent only when creating.
  var STORE_TOKEN = "otslite.token";

  function credential() {
    var v = null;
    try {
      v = sessionStorage.getItem(STORE_TOKEN);
    } catch (e) {
      return null;
    }
    var i = v ? v.indexOf(":") : -1;
    return i > 0 ? { user: v.slice(0, i), token: v.slice(i + 1) } : null;
  }

  function keepCredential(c) {
    if (c) remember(STORE_TOKEN, c.user + ":" + c.token);
    else {
      try {
        sessionStorage.removeItem(STORE_TOKEN);
      } catch (e) {
        // storage disabled: nothing was kept
      }
    }
  }

  // basicAuth is the Authorization header value for a credential: user and
  // token are printable ASCII (the server's rule), so btoa takes them.
  function basicAuth(c) {
    return "Basic " + btoa(c.user + ":" + c.token);
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
    P: P,
    $: $,
    show: show,
    fill: fill,
    formatNumber: formatNumber,
    formatBytes: formatBytes,
    formatSize: formatSize,
    formatDuration: formatDuration,
    formatTime: formatTime,
    nowSeconds: nowSeconds,
    utf8Length: utf8Length,
    codePoints: codePoints,
    api: api,
    loadConfig: loadConfig,
    sessionNote: sessionNote,
    credential: credential,
    keepCredential: keepCredential,
    basicAuth: basicAuth,
    errorText: errorText,
    showError: showError,
    clearError: clearError,
    hidePasswords: hidePasswords,
    pageLocale: pageLocale,
    clearCopyNotes: clearCopyNotes,
    wireCopy: wireCopy,
    lateNotice: lateNotice,
    download: download,
    keyFromPath: keyFromPath,
    setBusy: setBusy
  });
})();
