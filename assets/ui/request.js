// otslite UI, request page (/request/<key>#<public key>): answer a request
// for a secret. The text and files typed or dropped here are sealed in
// this browser to the requester's public key (zk.js: a one-time key pair,
// ECDH, HKDF) and sent once; the server sees neither key nor plaintext,
// and only the requester's own link opens the answer. Nothing is kept
// here once it is sent.
"use strict";

(function () {
  var o = window.otslite;
  var zk = window.otsliteZK;
  var B = window.otsliteBundle;
  var T = o.T;
  var fill = o.fill;
  var $ = o.$;
  var show = o.show;

  var key = o.keyFromPath(["request"]);
  var pub = zk.parseKeyFragment(location.hash, [zk.PUBLIC_BYTES]);
  var form = $("answer-form");
  var secret = $("secret");
  var sendButton = $("send");
  var cfg = null;
  var files = window.otsliteFiles.picker(form, function () { return o.utf8Length(secret.value); }, updateCounter);

  function showOnly(id) {
    ["loading", "incomplete", "answer-form", "sent", "closed"].forEach(function (s) {
      show($(s), s === id);
    });
  }

  function limit() {
    return cfg && cfg.max_secret_size ? zk.maxPlain(cfg.max_secret_size) : 0;
  }

  function updateCounter() {
    var used = o.utf8Length(secret.value);
    var max = files.files() ? 0 : limit();
    var counter = $("secret-count");
    if (max && used >= max * 0.8) counter.textContent = fill(T("byteCount"), { used: o.formatNumber(used), max: o.formatBytes(max) });
    else counter.textContent = o.P("chars", o.codePoints(secret.value));
    counter.classList.toggle("over", max > 0 && used > max);
  }

  function closed() {
    showOnly("closed");
    $("closed-title").focus();
  }

  function busy(on, text) {
    o.setBusy(form, on, [sendButton]);
    sendButton.textContent = on ? text : sendButton.getAttribute("data-label");
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    o.clearError();
    if (secret.value === "" && !files.files()) {
      o.showError(cfg && cfg.max_file_size ? T("emptyContent") : T("emptySecret"));
      secret.focus();
      return;
    }
    var problem = files.check();
    var used = o.utf8Length(secret.value);
    if (!problem && !files.files() && limit() && used > limit()) problem = fill(T("secretTooLarge"), { over: o.formatBytes(used - limit()) });
    if (problem) {
      o.showError(problem);
      return;
    }
    busy(true, T("encrypting"));
    var answer = null;
    files.contents(secret.value).then(function (plain) {
      if (cfg.max_envelope_size && zk.envelopeLength(plain.length) > Math.max(cfg.max_envelope_size, cfg.max_secret_size)) {
        plain.fill(0);
        return { ok: false, status: 413, message: "", tooLarge: true };
      }
      return zk.answerKey(pub).then(function (a) {
        answer = a;
        return zk.sealWithKey(a.key, plain);
      }).then(function (sealed) {
        plain.fill(0);
        answer.key.fill(0);
        return o.api("POST", "/api/otslite/request/" + key + "/answer",
          { secret: sealed.envelope, passphrase: sealed.proof, "public": zk.b64urlEncode(answer.pub) }, "", true);
      });
    }).then(function (r) {
      busy(false);
      if (r.ok) {
        form.reset();
        files.clear();
        secret.value = "";
        showOnly("sent");
        $("sent-title").focus();
      } else if (r.tooLarge) {
        o.showError(fill(T("tooLarge"), { max: o.formatSize(cfg.max_file_size || cfg.max_secret_size) }));
      } else if (r.status === 404 || r.status === 409) {
        closed();
      } else {
        o.showError(o.errorText(r));
      }
    }).catch(function (e) {
      if (answer) answer.key.fill(0);
      busy(false);
      o.showError(e && e.fileName ? fill(T("fileUnreadable"), { name: e.fileName }) : T("generic"));
    });
  });

  secret.addEventListener("input", updateCounter);
  sendButton.setAttribute("data-label", sendButton.textContent);

  if (!key || pub === false || pub === null) {
    showOnly("incomplete");
    $("incomplete-title").focus();
    return;
  }
  if (!zk.available()) {
    o.showError(T("keysNeedSecure"));
    return;
  }
  show($("loading"), true);
  Promise.all([o.api("GET", "/api/otslite/request/" + key), o.loadConfig()]).then(function (r) {
    var c = r[0];
    cfg = r[1].config;
    show($("loading"), false);
    if (!c.ok) {
      if (c.status === 404) closed();
      else o.showError(o.errorText(c));
      return;
    }
    if (!c.data || c.data.state !== "waiting") {
      closed();
      return;
    }
    if (typeof c.data.deadline === "number" && c.data.deadline > 0) {
      $("answer-expiry").textContent = fill(T("answerBy"), { time: o.formatTime(c.data.deadline), duration: o.formatDuration(c.data.deadline - o.nowSeconds()) });
    }
    files.setCap(cfg);
    updateCounter();
    showOnly("answer-form");
    secret.focus();
  });
})();
