// otslite UI: putting a split secret back together (the secret page, once
// it has opened a part, and the combine page). The links of the other
// parts are pasted in, one after another, and opened from this tab: each
// is revealed once, decrypted here, and its share kept in this tab's
// memory only (never in storage), until enough shares of one split are
// here (shamir.js). Then the secret is rebuilt and the shares wiped.
//
// Elements (layout.html, "parts"): #parts with #parts-title, #parts-text,
// #parts-list and the form #parts-form (#part-link, #part-pass-field,
// #part-pass, #part-open).
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var S = window.otsliteShamir;
  var C = window.otsliteContents;
  var T = o.T;
  var $ = o.$;

  // create wires the parts form. onSecret(plain) gets the rebuilt secret
  // (or a whole secret whose link was pasted here), to show.
  function create(onSecret) {
    var splits = {}; // by id: {k, n, xs: [], ys: []}
    var current = null; // the id shown
    var opened = {}; // secret keys opened from this tab
    var form = $("parts-form");
    var input = $("part-link");
    var pass = $("part-pass");
    var button = $("part-open");

    function wipe() {
      Object.keys(splits).forEach(function (id) {
        splits[id].ys.forEach(function (y) { y.fill(0); });
        splits[id].ys = [];
      });
    }
    window.addEventListener("pagehide", wipe);

    function render() {
      var s = splits[current];
      if (!s) return;
      var have = s.xs.length;
      $("parts-title").textContent = o.fill(T("partsTitle"), { n: o.formatNumber(s.n), k: o.formatNumber(s.k) });
      $("parts-text").textContent = o.P("partsMissing", s.k - have, { k: o.formatNumber(s.k) });
      var list = $("parts-list");
      list.textContent = "";
      s.xs.slice().sort(function (a, b) { return a - b; }).forEach(function (x) {
        var li = document.createElement("li");
        li.textContent = o.fill(T("partOpened"), { x: o.formatNumber(x), n: o.formatNumber(s.n) });
        list.appendChild(li);
      });
      $("part-link-label").textContent = T("partLinkNext");
    }

    // add keeps one share (opened from the link of secret key key, not to
    // be opened again here); with enough of its split, rebuilds the secret.
    function add(share, payload, key) {
      if (key) opened[key] = true;
      var s = splits[share.idText];
      if (!s) s = splits[share.idText] = { k: share.k, n: share.n, xs: [], ys: [] };
      if (s.xs.indexOf(share.x) >= 0) {
        payload.fill(0);
        o.showError(T("partTwice"));
        return;
      }
      if (s.ys.length && s.ys[0].length !== payload.length) {
        payload.fill(0);
        o.showError(T("bundleDamaged"));
        return;
      }
      s.xs.push(share.x);
      s.ys.push(payload.slice());
      payload.fill(0);
      if (current && current !== share.idText) o.showError(T("partOther"));
      if (!current || current !== share.idText && s.xs.length >= splits[current].xs.length) current = share.idText;
      if (s.xs.length < s.k) {
        render();
        o.show($("parts"), true);
        return;
      }
      var secret;
      try {
        secret = S.combine(s.xs.slice(0, s.k), s.ys.slice(0, s.k));
      } finally {
        s.ys.forEach(function (y) { y.fill(0); });
        s.ys = [];
      }
      o.show($("parts"), false);
      onSecret(secret, s);
    }

    // openLink reveals a pasted link from this tab.
    function openLink(text, passphrase) {
      var u;
      try {
        u = new URL(text.trim(), location.href);
      } catch (e) {
        return Promise.resolve(T("partNotLink"));
      }
      var m = /^\/secret\/([0-9a-z]{1,128})$/.exec(u.pathname);
      if (!m) return Promise.resolve(T("partNotLink"));
      if (u.origin !== location.origin) return Promise.resolve(T("partOtherServer"));
      var key = m[1];
      var link = zk.parseFragment(u.hash);
      if (!link) return Promise.resolve(T("partIncomplete"));
      if (opened[key]) return Promise.resolve(T("partTwice"));
      if (link.passphrase && !passphrase) {
        o.show($("part-pass-field"), true);
        pass.focus();
        return Promise.resolve(T("passphraseMissing"));
      }
      return zk.unlock(link, link.passphrase ? passphrase : "").then(function (u) {
        return o.api("POST", "/api/v1/secret/" + key, { passphrase: u.proof }).then(function (r) {
          if (!(r.ok && r.data && typeof r.data.value === "string")) {
            u.ikm.fill(0);
            if (r.status === 404) {
              // A wrong passphrase and a part that is gone answer alike;
              // asking again, without consuming, tells which.
              return o.api("GET", "/api/otslite/secret/" + key).then(function (c) {
                if (c.ok && link.passphrase) return T("wrongPassphrase");
                return c.ok ? T("partIncomplete") : T("partGone");
              });
            }
            return o.errorText(r);
          }
          opened[key] = true;
          return zk.openBytes(r.data.value, u.ikm).then(function (plain) {
            var c;
            try {
              c = C.read(plain);
            } catch (e) {
              plain.fill(0);
              return C.problem(e);
            }
            if (!c.share) {
              onSecret(plain, null); // a whole secret: shown, not lost
              return "";
            }
            add(c.share, c.payload, key);
            plain.fill(0);
            return "";
          }, function () {
            return T("decryptFailed");
          });
        });
      });
    }

    input.addEventListener("input", function () {
      var i = input.value.indexOf("#");
      var link = i >= 0 ? zk.parseFragment(input.value.slice(i).trim()) : null;
      o.show($("part-pass-field"), !!(link && link.passphrase));
    });

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      o.clearError();
      if (input.value.trim() === "") {
        o.showError(T("partNotLink"));
        input.focus();
        return;
      }
      o.setBusy(form, true, [button]);
      openLink(input.value, pass.value).then(function (msg) {
        o.setBusy(form, false, [button]);
        if (msg) {
          o.showError(msg);
          return;
        }
        form.reset();
        o.hidePasswords();
        o.show($("part-pass-field"), false);
        if (!$("parts").hidden) $("parts-title").focus();
      }, function () {
        o.setBusy(form, false, [button]);
        o.showError(T("generic"));
      });
    });

    return { add: add };
  }

  window.otsliteParts = Object.freeze({ create: create });
})();
