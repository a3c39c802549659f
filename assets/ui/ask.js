// otslite UI, ask page (/ask): make a request for a secret. This browser
// makes an ECDH P-256 key pair (zk.js); the server makes a request and
// gives two keys. The request link carries the public key in its fragment
// (/request/<request_key>#<public key>), for the person who has the
// secret; the requester's own link carries the private key beside it
// (/inbox/<requester_key>#<scalar || public key>), and only it can open
// the answer.
// Neither key reaches the server; the private one lives in this page's
// memory until it is put in the link shown, and is wiped then.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var qr = window.otsliteQR;
  var T = o.T;
  var fill = o.fill;
  var $ = o.$;
  var show = o.show;

  var TTL_CHOICES = [3600, 14400, 86400, 259200, 604800];
  var DEFAULT_TTL = 86400;

  var form = $("ask-form");
  var ttl = $("ttl");
  var button = $("ask");
  var cfg = null;
  var cred = o.credential();

  function buildTTLs() {
    var max = cfg && cfg.max_ttl >= 1 ? cfg.max_ttl : 604800;
    var choices = TTL_CHOICES.filter(function (t) { return t <= max; });
    if (choices.indexOf(max) < 0) choices.push(max);
    var selected = choices.indexOf(DEFAULT_TTL) >= 0 ? DEFAULT_TTL : choices[choices.length - 1];
    ttl.textContent = "";
    choices.forEach(function (t) {
      var opt = document.createElement("option");
      opt.value = String(t);
      opt.textContent = o.formatDuration(t);
      opt.selected = t === selected;
      ttl.appendChild(opt);
    });
    updateSessionNote();
  }

  function updateSessionNote() {
    var text = o.sessionNote(cfg, o.nowSeconds() + (parseInt(ttl.value, 10) || 0));
    $("session-note").textContent = text;
    show($("session-note"), text !== "");
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    if (cfg && cfg.tokens_required && !cred) {
      o.showError(T("askNeedsToken"));
      return;
    }
    o.setBusy(form, true, [button]);
    var keys = null;
    zk.requestKeys().then(function (k) {
      keys = k;
      return o.api("POST", "/api/otslite/request", { ttl: ttl.value }, cred ? o.basicAuth(cred) : "");
    }).then(function (r) {
      o.setBusy(form, false, [button]);
      if (!(r.ok && r.data && r.data.request_key && r.data.requester_key)) {
        keys.priv.fill(0);
        o.showError(r.status === 401 && cfg.tokens_required ? T("askNeedsToken") : o.errorText(r));
        return;
      }
      var request = location.origin + "/request/" + r.data.request_key + "#" + zk.b64urlEncode(keys.pub);
      var both = new Uint8Array(zk.PRIVATE_BYTES + zk.PUBLIC_BYTES);
      both.set(keys.priv, 0);
      both.set(keys.pub, zk.PRIVATE_BYTES);
      var inbox = location.origin + "/inbox/" + r.data.requester_key + "#" + zk.b64urlEncode(both);
      both.fill(0);
      keys.priv.fill(0);
      $("request-link").value = request;
      var lives = typeof r.data.ttl === "number" ? r.data.ttl : parseInt(ttl.value, 10);
      $("request-expiry").textContent = fill(T("requestLives"), { duration: o.formatDuration(lives), time: o.formatTime(o.nowSeconds() + lives) });
      show($("qr-figure"), qr.draw($("qr"), request)); // a long public URL may not fit a code
      $("inbox-link").value = inbox;
      $("inbox-open").href = inbox;
      show($("share-button"), typeof navigator.share === "function");
      show(form, false);
      show($("intro"), false);
      show($("result"), true);
      $("result-title").focus();
    }, function () {
      if (keys) keys.priv.fill(0);
      o.setBusy(form, false, [button]);
      o.showError(T("generic"));
    });
  });

  $("share-button").addEventListener("click", function () {
    // The request link alone: never the requester's own.
    navigator.share({ title: T("askShareTitle"), url: $("request-link").value }).catch(function () {
      // dismissed: the link is still there to copy
    });
  });

  ttl.addEventListener("change", updateSessionNote);
  if (!zk.available()) {
    o.showError(T("keysNeedSecure"));
    form.inert = true;
    return;
  }
  if (cred) {
    $("token-as-text").textContent = fill(T("tokenAs"), { user: cred.user });
  }
  buildTTLs();
  o.setBusy(form, true, [button]);
  o.loadConfig().then(function (c) {
    cfg = c.config;
    if (!c.ok) o.showError(T("configFailed"));
    buildTTLs();
    show($("token-as"), !!(cfg.tokens_required && cred));
    o.setBusy(form, false, [button]);
  });
})();
