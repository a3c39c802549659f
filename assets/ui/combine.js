// otslite UI, combine page (/combine): rebuild a split secret from the
// links of its parts, pasted one after another (parts.js opens each from
// this tab, once). The parts and the secret stay in this tab's memory.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var C = window.otsliteContents;
  var $ = o.$;

  function showContents(plain) {
    var c;
    try {
      c = C.read(plain);
    } catch (e) {
      plain.fill(0);
      o.showError(C.problem(e));
      return;
    }
    if (c.share) {
      plain.fill(0);
      o.showError(C.problem(null));
      return;
    }
    C.show(c, plain);
    o.show($("parts"), false);
    o.show($("revealed"), true);
    C.focus();
  }

  window.otsliteParts.create(showContents);
  if (!zk.available()) {
    o.showError(o.T("needsSecure"));
    return;
  }
  o.show($("parts"), true);
})();
