// otslite UI: showing what an envelope held (the secret page, the combine
// page, the requester's page). Text goes into the read-only #value field;
// files are listed with their names, types and sizes, each with a
// Download button: the recipient saves each file under its name and type,
// and only when they ask. The decrypted bytes stay in this page's memory
// while it shows them, and are wiped when it goes (pagehide).
//
// Elements (layout.html, "contents"): #text-out with #value and
// #download, #files-out with #files-out-list.
"use strict";

(function () {
  var o = window.otslite;
  var B = window.otsliteBundle;
  var T = o.T;
  var $ = o.$;
  var dec = new TextDecoder("utf-8", { fatal: true });
  var held = [];
  var shownText = "";

  // release wipes the bytes this page holds.
  function release() {
    held.forEach(function (b) { b.fill(0); });
    held = [];
  }
  window.addEventListener("pagehide", release);

  // read takes an envelope's plaintext apart: {text, files, share,
  // payload}, text alone for plain text. It throws a BundleError (or a
  // TypeError for text that is not UTF-8: "damaged").
  function read(plain) {
    if (!B.isBundle(plain)) {
      try {
        return { text: dec.decode(plain), files: [], share: null, payload: null };
      } catch (e) {
        throw new B.BundleError("damaged");
      }
    }
    return B.parse(plain);
  }

  // problem is the page's words for a bundle it cannot show.
  function problem(e) {
    if (e && e.code === "version") return T("bundleVersion");
    if (e && e.code === "name") return T("bundleName");
    return T("bundleDamaged");
  }

  // show puts parsed contents on the page; plain is kept (until the page
  // goes) for the files' downloads.
  function show(c, plain) {
    release();
    if (plain) held.push(plain);
    shownText = c.text;
    $("value").value = c.text;
    o.show($("text-out"), c.text !== "" || !c.files.length);
    var list = $("files-out-list");
    list.textContent = "";
    c.files.forEach(function (f, i) {
      var li = document.createElement("li");
      var name = document.createElement("bdi");
      name.className = "file-name";
      name.id = "out-" + i + "-name";
      name.textContent = f.name;
      var meta = document.createElement("span");
      meta.className = "hint file-size";
      meta.textContent = f.type ? o.fill(T("fileMeta"), { type: f.type, size: o.formatSize(f.size) }) : o.formatSize(f.size);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small";
      button.textContent = T("download");
      button.setAttribute("aria-describedby", name.id);
      button.addEventListener("click", function () {
        o.download(f.data, B.cleanName(f.name), f.type || "application/octet-stream");
      });
      li.appendChild(name);
      li.appendChild(meta);
      li.appendChild(button);
      list.appendChild(li);
    });
    o.show($("files-out"), c.files.length > 0);
  }

  // focus puts focus on what was shown first.
  function focus() {
    if (!$("text-out").hidden) $("value").focus();
    else $("files-out-list").querySelector("button").focus();
  }

  $("download").addEventListener("click", function () {
    o.download(shownText, "secret.txt", "text/plain;charset=utf-8");
  });

  window.otsliteContents = Object.freeze({ read: read, show: show, focus: focus, problem: problem, release: release });
})();
