/* Every page: after a form comes back with errors, bring the first one into view and put the cursor in
   its field; 显示密码 shows a form's passwords as text; back at a place in a page (#r2, after 题目有误),
   the page's notice is shown there rather than at the top, out of view; 大字 switches large type
   without leaving the page. Served by the app (CSP: script-src 'self'). */
(function () {
  "use strict";

  function firstError() {
    var error = document.querySelector("main .errors, main [data-error]");
    if (!error) return;
    var field = error.id && document.querySelector('[aria-describedby~="' + error.id + '"]');
    var target = field || error;
    if (!field && !error.hasAttribute("tabindex")) error.setAttribute("tabindex", "-1");
    // Centre it: a sticky top bar would hide a field scrolled to the very top.
    target.scrollIntoView({ block: "center" });
    try { target.focus({ preventScroll: true }); } catch (e) { target.focus(); }
  }

  function showPasswords() {
    var boxes = document.querySelectorAll("[data-show-password]");
    Array.prototype.forEach.call(boxes, function (label) {
      var form = label.closest("form"), box = label.querySelector("input");
      if (!form || !box) return;
      var fields = form.querySelectorAll("input[type=password]");
      label.hidden = false;
      box.addEventListener("change", function () {
        Array.prototype.forEach.call(fields, function (f) { f.type = box.checked ? "text" : "password"; });
      });
      // Never leave a password as text in a form the browser may restore, or that a password manager reads.
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(fields, function (f) { f.type = "password"; });
      });
    });
  }

  function noticeAtTarget() {
    if (!location.hash) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var notices = document.querySelectorAll('main > .flash[role="status"]');
    if (!target || !notices.length) return;
    // Inside the target, first: wherever the browser scrolls for the #fragment, the notice comes with it.
    Array.prototype.slice.call(notices).reverse().forEach(function (n) { target.insertBefore(n, target.firstChild); });
    target.scrollIntoView({ block: "start" });
  }

  // 大字 / 标准字: switched in place (no reload: the page keeps what was typed and where it was scrolled),
  // and kept by the server. If the server cannot be reached, this page keeps the new size all the same.
  function largeSwitch() {
    var form = document.querySelector("form[data-large-switch]");
    if (!form || !window.fetch || !window.FormData) return;
    var button = form.querySelector("button"), field = form.elements.large;
    function show(on) {
      document.documentElement.classList.toggle("large", on);
      field.value = on ? "0" : "1";
      button.textContent = on ? button.getAttribute("data-on") : button.getAttribute("data-off");
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new FormData(form), on = field.value === "1";
      show(on);
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) { if (data && data.ok) show(data.large); })
        .catch(function () { /* offline: this page keeps the size chosen */ });
    });
  }

  showPasswords();
  largeSwitch();
  noticeAtTarget();
  firstError();
})();
