/* 复制提醒: copy the ready-made WeChat message; without clipboard access, select it for a long-press copy. */
(function () {
  "use strict";
  var button = document.getElementById("copy-reminder"), text = document.getElementById("reminder");
  if (!button || !text) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () { document.getElementById("copy-done").hidden = false; };
    text.focus();
    text.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.value).then(done, function () { if (document.execCommand("copy")) done(); });
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
})();
