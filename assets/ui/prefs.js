// otslite UI: the visitor's choices for this tab, applied before the page
// is drawn. Both live in sessionStorage (this tab only, gone when it
// closes); nothing else is ever stored in the browser.
//   otslite.theme   "dark" or "light", from the toggle (else the system's)
//   otslite.locale  a language picked in the menu
"use strict";

(function () {
  var root = document.documentElement;
  var theme = null, locale = null;
  try {
    theme = sessionStorage.getItem("otslite.theme");
    locale = sessionStorage.getItem("otslite.locale");
  } catch (e) {
    return; // storage disabled: the system's theme and the browser's language
  }
  if (theme === "dark" || theme === "light") root.setAttribute("data-theme", theme);
  // A language picked earlier in this tab wins over Accept-Language, but
  // not over a ?locale= in the link itself.
  if (locale && /^[A-Za-z-]{2,8}$/.test(locale) && locale !== root.lang &&
      !/[?&]locale=/.test(location.search)) {
    var q = location.search ? location.search + "&" : "?";
    location.replace(location.pathname + q + "locale=" + encodeURIComponent(locale) + location.hash);
  }
})();
