/* 测试一下你的手机: run each check, say what it found and what to do, then the verdict. The server's
   echo goes the way an answer save goes (session cookie, CSRF header, JSON) and is timed; the clock
   difference is the server's clock against the middle of the round trip. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("check-text").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var list = document.getElementById("checks"), verdict = document.getElementById("verdict");
  var again = document.getElementById("again");
  var CLOCK_LIMIT_MS = 2 * 60 * 1000, SLOW_MS = 3000;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }
  function set(key, state, advice) {
    var row = document.getElementById("check-" + key);
    var tag = row.querySelector("[data-state]");
    tag.className = "tag " + state;
    tag.textContent = T[state];
    row.querySelector("[data-advice]").textContent = advice;
    row.setAttribute("data-result", state);
  }
  function storageWorks() {
    try {
      var key = "lh-check-" + Date.now();
      localStorage.setItem(key, "1");
      var back = localStorage.getItem(key);
      localStorage.removeItem(key);
      return back === "1";
    } catch (e) { return false; }
  }
  function finish() {
    var bad = list.querySelectorAll('[data-result="bad"]').length;
    var warn = list.querySelectorAll('[data-result="warn"]').length;
    var p = document.createElement("p");
    p.className = "verdict " + (bad ? "bad" : warn ? "warn" : "ok");
    p.textContent = bad ? fill(T.problems, { n: bad }) : warn ? T.notes : T.all_ok;
    verdict.textContent = "";
    verdict.appendChild(p);
    again.hidden = false;
  }
  function server(done) {
    var sent = Date.now(), started = performance.now();
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, 15000);
    fetch(list.getAttribute("data-echo"), {
      method: "POST", credentials: "same-origin", redirect: "manual", signal: controller ? controller.signal : undefined,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ n: sent })
    }).then(function (r) {
      if (r.status === 401 || r.status === 403 || r.type === "opaqueredirect") throw new Error("login");
      if (!r.ok) throw new Error("server");
      return r.json();
    }).then(function (body) {
      var ms = Math.round(performance.now() - started);
      if (!body.ok || body.n !== sent) throw new Error("server");
      set("server", ms > SLOW_MS ? "warn" : "ok", fill(ms > SLOW_MS ? T.server_slow : T.server_ok, { ms: ms }));
      var offset = body.server_ms - (sent + ms / 2);
      if (Math.abs(offset) > CLOCK_LIMIT_MS) set("clock", "warn", fill(T.clock_off, { m: Math.round(Math.abs(offset) / 60000) }));
      else set("clock", "ok", T.clock_ok);
    }).catch(function (e) {
      set("server", "bad", e && e.message === "login" ? T.server_login : T.server_bad);
      set("clock", "warn", T.server_bad);
    }).then(function () { clearTimeout(timer); done(); });
  }
  function run() {
    list.hidden = false;
    if (!window.fetch || !window.JSON || !window.performance) {  // too old for the paper's script
      set("script", "bad", T.old);
      finish();
      return;
    }
    again.hidden = true;
    verdict.textContent = "…";
    set("script", "ok", T.script);
    set("storage", storageWorks() ? "ok" : "bad", storageWorks() ? T.storage_ok : T.storage_bad);
    set("cookies", navigator.cookieEnabled ? "ok" : "bad", navigator.cookieEnabled ? T.cookies_ok : T.cookies_bad);
    var wechat = /MicroMessenger/i.test(navigator.userAgent);
    set("browser", wechat ? "warn" : "ok", wechat ? T.wechat : T.browser_ok);
    server(finish);
  }
  again.addEventListener("click", run);
  run();
})();
