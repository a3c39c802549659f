// otslite UI: files to send (the create page and the answer to a
// request). Files are picked or dropped, listed with their sizes, and read
// only when the secret is sealed: into memory, straight into a bundle
// (bundle.js), which the page encrypts and wipes. Nothing is written
// anywhere: no storage, no temporary file.
//
// The cap (max_file_size of /api/otslite/config: files and text together)
// is shown on the button that adds them, before anything is read.
"use strict";

(function () {
  var o = window.otslite;
  var B = window.otsliteBundle;
  var T = o.T;
  var $ = o.$;
  var enc = new TextEncoder();

  // picker wires the file controls of a page: the #add-files button, the
  // #files input, the #file-list list and #file-total, and drops on
  // dropZone. textBytes() tells how many bytes of text go beside the
  // files. It returns {files(), setCap(cfg), clear(), check(), contents()}.
  function picker(dropZone, textBytes, onChange) {
    var input = $("files");
    var button = $("add-files");
    var list = $("file-list");
    var total = $("file-total");
    var chosen = [];
    var cap = 0;

    function size() {
      return chosen.reduce(function (n, f) { return n + f.size; }, 0);
    }

    // check says what is wrong with the files chosen, or "".
    function check() {
      if (!chosen.length) return "";
      if (chosen.length > B.MAX_FILES) return o.P("tooManyFiles", B.MAX_FILES);
      var used = size() + textBytes();
      if (used > cap) return o.fill(T("filesTooLarge"), { over: o.formatSize(used - cap), max: o.formatSize(cap) });
      return "";
    }

    function render() {
      list.textContent = "";
      chosen.forEach(function (f, i) {
        var li = document.createElement("li");
        var name = document.createElement("bdi");
        name.className = "file-name";
        name.id = "file-" + i + "-name";
        name.textContent = f.name;
        var meta = document.createElement("span");
        meta.className = "hint file-size";
        meta.textContent = o.formatSize(f.size);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.textContent = T("remove");
        remove.setAttribute("aria-describedby", name.id);
        remove.addEventListener("click", function () {
          chosen.splice(i, 1);
          render();
          (chosen.length ? list.querySelector("button") : button).focus();
        });
        li.appendChild(name);
        li.appendChild(meta);
        li.appendChild(remove);
        list.appendChild(li);
      });
      o.show(list, chosen.length > 0);
      total.textContent = chosen.length ? o.P("filesChosen", chosen.length, { size: o.formatSize(size()), max: o.formatSize(cap) }) : "";
      o.show(total, chosen.length > 0);
      total.classList.toggle("over", check() !== "");
      if (onChange) onChange();
    }

    function add(files) {
      Array.prototype.forEach.call(files || [], function (f) {
        if (f && typeof f.size === "number") chosen.push(f);
      });
      render();
      var problem = check();
      if (problem) o.showError(problem);
      else o.clearError();
    }

    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });
    dropZone.addEventListener("dragover", function (ev) {
      if (!cap || !ev.dataTransfer || Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") < 0) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "copy";
    });
    dropZone.addEventListener("drop", function (ev) {
      if (!cap || !ev.dataTransfer || !ev.dataTransfer.files.length) return;
      ev.preventDefault();
      add(ev.dataTransfer.files);
    });

    // setCap shows the controls when the server takes files.
    function setCap(cfg) {
      cap = cfg.max_file_size || 0;
      button.textContent = o.fill(T("addFiles"), { max: o.formatSize(cap) });
      o.show(button, cap > 0);
      render();
    }

    // contents reads the files and makes the bytes to seal: the text's
    // UTF-8 when there are no files (a text that begins with NUL goes in
    // a bundle, where it cannot be taken for one), else a bundle of the
    // text and the files. The caller wipes the result.
    function contents(text) {
      if (!chosen.length) {
        var plain = enc.encode(text);
        if (!B.isBundle(plain)) return Promise.resolve(plain);
        var wrapped = B.write({ text: plain, files: [] });
        plain.fill(0);
        return Promise.resolve(wrapped);
      }
      return Promise.all(chosen.map(function (f) {
        return f.arrayBuffer().then(function (buf) {
          return { name: B.cleanName(f.name), type: B.cleanType(f.type), data: new Uint8Array(buf) };
        }, function () {
          var e = new Error("unreadable");
          e.fileName = f.name;
          throw e;
        });
      })).then(function (read) {
        var t = enc.encode(text);
        try {
          return B.write({ text: t, files: read });
        } finally {
          t.fill(0);
          read.forEach(function (f) { f.data.fill(0); });
        }
      });
    }

    return {
      files: function () { return chosen.length; },
      size: size,
      check: check,
      setCap: setCap,
      contents: contents,
      clear: function () {
        chosen = [];
        render();
      }
    };
  }

  window.otsliteFiles = Object.freeze({ picker: picker });
})();
