/* 复制提醒: copy the ready-made WeChat message; without clipboard access, select it for a long-press copy.
   The branch page has one (#copy-reminder, #reminder, #copy-done); the landing page one per task
   (button[data-copy] names its textarea; "<id>-done" says it is copied). */
(function () {
  "use strict";
  function wire(button, text, note) {
    if (!button || !text) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { if (note) note.hidden = false; };
      text.focus();
      text.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(done, function () { if (document.execCommand("copy")) done(); });
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  }
  wire(document.getElementById("copy-reminder"), document.getElementById("reminder"), document.getElementById("copy-done"));
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var id = button.getAttribute("data-copy");
    wire(button, document.getElementById(id), document.getElementById(id + "-done"));
  });
})();
