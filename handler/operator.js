// The audit page's "end session" control. Ending the session is sent with
// the admin token the operator types, as a Bearer token, and never with
// the Basic login the browser saved for this page (credentials: "omit"):
// the server takes only the former, so another site cannot end the
// session through the browser. The token is not kept anywhere.
"use strict";
(function () {
  var form = document.getElementById("end-form");
  if (!form) {
    return;
  }
  var input = document.getElementById("end-token");
  var button = document.getElementById("end-button");
  var status = document.getElementById("end-status");
  form.hidden = false;

  function say(text, kind) {
    status.textContent = text;
    status.className = "end-status" + (kind ? " " + kind : "");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = input.value.trim();
    if (!token) {
      say("Type the admin token first.", "error");
      input.focus();
      return;
    }
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    say("Ending the session…");
    fetch("/api/otslite/end", {
      method: "POST",
      headers: { "Authorization": "Bearer " + token },
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      referrerPolicy: "no-referrer"
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return { ok: resp.ok, body: body };
      });
    }).then(function (r) {
      input.value = "";
      form.removeAttribute("aria-busy");
      if (r.ok) {
        input.disabled = true;
        say("The session is ending: every waiting secret is being wiped, and otslite stops. This page will not load again.", "ok");
        return;
      }
      button.disabled = false;
      say((r.body && r.body.message) || "The session was not ended.", "error");
    }, function () {
      input.value = "";
      form.removeAttribute("aria-busy");
      button.disabled = false;
      say("No answer from otslite: the session may have ended already.", "error");
    });
  });
})();
