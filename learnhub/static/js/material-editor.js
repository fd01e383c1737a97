/* The material editor: a live preview rendered by the server (the same sanitiser members' pages use),
   asked for half a second after the typing stops; 插入正文 puts an attachment's reference where the cursor
   is; a warning before leaving (or uploading) with unsaved text. Without this script the 预览 button posts
   the form and the page comes back with the preview. */
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form || !window.fetch || !window.FormData) return;
  var body = form.elements.body, box = document.getElementById("preview-box"), out = document.getElementById("preview");
  var url = form.getAttribute("data-preview"), timer = null, asked = 0, dirty = false;

  function refresh() {
    var data = new FormData(), mine = ++asked;
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("body", body.value);
    if (form.elements.material_id) data.append("material_id", form.elements.material_id.value);
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (mine !== asked || !d || !d.ok) return;  // a later request is on its way, or it failed
        out.innerHTML = '<article class="prose">' + d.html + "</article>";
        box.hidden = false;
      })
      .catch(function () { /* offline: the last preview stays; 保存 still works */ });
  }

  function changed() {
    dirty = true;
    var note = document.querySelector("[data-unsaved]");
    if (note) note.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  }

  body.addEventListener("input", changed);
  var preview = form.querySelector('button[value="preview"]');
  if (preview) {
    preview.addEventListener("click", function (event) {
      event.preventDefault();
      refresh();
      box.hidden = false;
      box.scrollIntoView({ block: "start" });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-insert]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-insert"), start = body.selectionStart, end = body.selectionEnd;
      var before = body.value.slice(0, start), after = body.value.slice(end);
      var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
      body.value = before + lead + text + "\n" + after;
      var caret = (before + lead + text + "\n").length;
      body.focus();
      body.setSelectionRange(caret, caret);
      body.scrollIntoView({ block: "center" });
      changed();
    });
  });

  form.addEventListener("submit", function () { dirty = false; });
  var upload = document.querySelector("form[data-upload]");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      if (dirty && !window.confirm("正文有未保存的修改，上传会离开本页，修改将丢失。仍要上传吗？")) event.preventDefault();
      else dirty = false;
    });
  }
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
