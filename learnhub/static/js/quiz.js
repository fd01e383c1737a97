/* Quiz page enhancement: save each answer as it is given, keep unsent answers on the phone, count
   down from the server's remaining seconds, and hand in without ever leaving for the browser's
   error page: the answers stay on the phone until the server has confirmed the hand-in, which is
   retried until the network returns. On the result page, answers still on the phone are handed in
   late, and the server names the ones it did not count. */
(function () {
  "use strict";
  if (!window.fetch || !window.JSON || !window.FormData) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function store(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ } }
  function keysOf(id) { return { pending: "lh-pending-" + id, seq: "lh-seq-" + id, handin: "lh-handin-" + id, notice: "lh-notice-" + id }; }
  function forget(keys) {
    try { Object.keys(keys).forEach(function (k) { localStorage.removeItem(keys[k]); }); } catch (e) { /* private mode */ }
  }
  function post(url, body, signal) {
    return fetch(url, { method: "POST", credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" }, body: body, signal: signal });
  }

  // The result page: it shows the hand-in's notice (which answers were not counted), and answers
  // still on the phone (the paper was closed while it was offline) go to the hand-in, which names them.
  var result = document.getElementById("handed-in");
  if (result) {
    var rkeys = keysOf(result.dataset.attempt), left = load(rkeys.pending, {}), data = new FormData();
    var tell = function (notice) {
      var box = document.createElement("div"), main = document.querySelector("main");
      box.className = "flash flash-error";
      box.setAttribute("role", "status");
      box.textContent = notice;
      main.insertBefore(box, main.firstChild);
    };
    if (load(rkeys.notice, "")) { tell(load(rkeys.notice, "")); forget({ notice: rkeys.notice }); }
    if (!Object.keys(left).length) { forget(rkeys); return; }
    data.append("csrf_token", csrf);
    data.append("shown", Object.keys(left).join(","));
    Object.keys(left).forEach(function (p) { [].concat(left[p].answer).forEach(function (v) { data.append("q" + p, v); }); });
    post(result.dataset.submitUrl, data).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (!body || !body.ok) return;
      forget(rkeys);
      if (body.notice) tell(body.notice);
    }).catch(function () { /* offline: tried again on the next visit */ });
    return;
  }

  var form = document.getElementById("paper");
  if (!form) return;
  var T = JSON.parse(document.getElementById("quiz-text").textContent);
  var keys = keysOf(form.dataset.attempt), saveUrl = form.dataset.saveUrl;
  var questions = Array.prototype.slice.call(form.querySelectorAll("section.q"));
  var net = document.getElementById("net"), banner = document.getElementById("handin"), button = document.getElementById("submit-btn");
  var closed = false, signedOut = false, handing = false, busy = false, timeUp = false, handText = "";
  var retryDelay = 2000, retryTimer = null, handTimer = null, inFlight = {}, given = {};
  var endAt = form.dataset.secondsLeft ? Date.now() + parseInt(form.dataset.secondsLeft, 10) * 1000 : null;
  // Immediate feedback: an answer is final once confirmed, and its key and explanation show at once.
  var immediate = form.dataset.immediate === "1";
  var pending = load(keys.pending, {});
  var seq = Math.max(parseInt(form.dataset.lastSeq || "0", 10), load(keys.seq, 0));

  function section(pos) { return document.getElementById("q" + pos); }
  function inputs(pos) { return section(pos).querySelectorAll("input"); }
  function answerOf(pos) {
    var kind = section(pos).dataset.kind, list = inputs(pos), out = [], i;
    for (i = 0; i < list.length; i++) {
      if (kind === "fill") out.push(list[i].value);
      else if (list[i].checked) out.push(list[i].value);
    }
    if (kind === "fill" || kind === "multiple") return out;
    return out.length ? out[0] : "";
  }
  function isAnswered(pos) {
    var a = answerOf(pos);
    if (Array.isArray(a)) return a.some(function (x) { return String(x).trim() !== ""; });
    return a !== "";
  }
  function apply(pos, answer) {
    var kind = section(pos).dataset.kind, list = inputs(pos), values = Array.isArray(answer) ? answer : [answer], i;
    for (i = 0; i < list.length; i++) {
      if (kind === "fill") list[i].value = values[i] || "";
      else list[i].checked = values.indexOf(list[i].value) !== -1;
    }
  }
  function mark(pos, state) {
    var el = section(pos).querySelector(".save-state");
    el.className = "save-state " + state;
    el.textContent = state === "saved" ? T.saved : state === "saving" ? T.saving : T.pending;
  }
  function summary() {
    var n = Object.keys(pending).length, answered = questions.filter(function (q) { return isAnswered(q.dataset.position); }).length;
    document.getElementById("progress").textContent = T.answered.replace("{a}", answered).replace("{n}", questions.length);
    net.className = "save-state " + (n || handing ? "pending" : "saved");
    if (handing) net.textContent = handText;
    else if (signedOut && n) net.textContent = T.signed_out;
    else if (!navigator.onLine && n) net.textContent = T.offline;
    else if (n) net.textContent = T.pending;
    else net.textContent = answered ? T.all_saved : "";  // every answer acknowledged by the server
  }

  function send(pos) {
    var item = pending[pos], sent = item && item.seq;
    if (!item || closed || handing || inFlight[pos] === sent) return;
    inFlight[pos] = sent;
    mark(pos, "saving");
    fetch(saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      redirect: "manual",  // a redirect means the session ended (to the login or password page)
      body: JSON.stringify({ position: Number(pos), q: Number((section(pos) || { dataset: {} }).dataset.q) || undefined, answer: item.answer, seq: sent })
    }).then(function (r) {
      delete inFlight[pos];
      if (handing) return;  // the hand-in carries every answer
      if (r.status === 409) { closed = true; alertClosed(); return; }
      if (r.type === "opaqueredirect") { signedOut = true; throw new Error("signed out"); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json().then(function (body) {
        signedOut = false;
        retryDelay = 2000;
        if (body.last_seq > seq) { seq = body.last_seq; store(keys.seq, seq); }
        if (pending[pos] && pending[pos].seq === sent) {
          if (body.saved || body.feedback) { delete pending[pos]; mark(pos, "saved"); }
          else { seq += 1; store(keys.seq, seq); pending[pos].seq = seq; }  // a newer answer was kept (another phone): this one is resent above it
          store(keys.pending, pending);
          if (pending[pos]) send(pos);
        }
        if (body.feedback) showFeedback(pos, body.feedback);
        summary();
      });
    }).catch(function () {
      delete inFlight[pos];
      if (handing) return;
      mark(pos, "pending");
      summary();
      scheduleRetry();
    });
  }
  function flush() { Object.keys(pending).forEach(send); }
  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }
  function alertClosed() {
    net.className = "save-state pending"; net.textContent = T.closed;
    setTimeout(function () { window.location.reload(); }, 1500);
  }
  function changed(pos, at) {  // `at`: when the answer was given (typing is sent a moment later)
    at = at || Date.now();
    if (handing || (endAt !== null && at >= endAt)) { apply(pos, given[pos]); tick(); return; }  // given after the deadline
    given[pos] = answerOf(pos);
    seq += 1; store(keys.seq, seq);
    pending[pos] = { answer: given[pos], seq: seq, at: at };
    store(keys.pending, pending);
    send(pos);
    summary();
  }

  function letters(list) { return list.map(function (i) { return "ABCDEF".charAt(i); }).join(""); }
  function shownAnswer(pos, list) {
    var kind = section(pos).dataset.kind;
    if (kind === "truefalse") return list[0] ? T.yes : T.no;
    if (kind === "fill") return list.join("；");
    return letters(list);
  }
  function lock(pos) {
    Array.prototype.forEach.call(inputs(pos), function (el) { el.disabled = true; });
    var confirm = section(pos).querySelector("button.confirm");
    if (confirm) { confirm.disabled = true; confirm.hidden = true; }
  }
  function showFeedback(pos, fb) {
    var box = section(pos).querySelector(".fb");
    if (!box) return;
    box.textContent = "";
    var verdict = document.createElement("p");
    verdict.className = fb.correct ? "right" : "wrong";
    verdict.textContent = fb.correct ? T.right_ans : T.wrong_ans;
    var key = document.createElement("p");
    key.textContent = T.key + "：" + shownAnswer(pos, fb.right);
    var why = document.createElement("div");
    why.className = "expl";
    why.textContent = fb.explanation + "（" + T.from + fb.article + "）";
    box.appendChild(verdict); box.appendChild(key); box.appendChild(why);
    box.hidden = false;
    apply(pos, fb.answer.map(String));
    given[pos] = answerOf(pos);
    lock(pos);
  }
  if (immediate) {
    questions.forEach(function (q) {
      var confirm = q.querySelector("button.confirm");
      if (!confirm || confirm.disabled) return;
      confirm.hidden = false;
      confirm.addEventListener("click", function () {
        if (!isAnswered(q.dataset.position) || handing) return;
        changed(q.dataset.position);
        if (!handing) lock(q.dataset.position);
      });
    });
  }

  // Handing in: the form's answers (every one on the page, sent or not) go with it; nothing leaves
  // the phone's storage until the server answers with the result page's address.
  function say(text) {  // the whole story by the 交卷 button, a short one in the bar and on the button
    handText = text === T.handing ? text : T.waiting;
    button.textContent = handText;
    banner.textContent = (timeUp ? T.time_up : "") + text;
    banner.hidden = false;
    summary();
  }
  function paperData() {
    var off = form.querySelectorAll("input:disabled, fieldset:disabled"), data;
    Array.prototype.forEach.call(off, function (el) { el.disabled = false; });
    data = new FormData(form);
    Array.prototype.forEach.call(off, function (el) { el.disabled = true; });
    return data;
  }
  function handIn(expired) {
    if (handing) return;
    Object.keys(typing).forEach(function (pos) { clearTimeout(typing[pos].timer); changed(pos, typing[pos].at); });
    typing = {};
    timeUp = !!expired;
    handing = true;
    store(keys.handin, 1);
    clearTimeout(retryTimer);
    Array.prototype.forEach.call(form.querySelectorAll("section.q input, section.q button"), function (el) { el.disabled = true; });
    button.disabled = true;
    say(T.handing);
    if (timeUp) banner.scrollIntoView({ block: "center" });
    deliver();
  }
  function deliver() {
    clearTimeout(handTimer);
    if (busy) return;
    if (!navigator.onLine) { wait(); return; }
    busy = true;
    var stop = window.AbortController ? new AbortController() : null, timeout = setTimeout(function () { if (stop) stop.abort(); }, 30000);
    post(form.action, paperData(), stop && stop.signal).then(function (r) {
      busy = false;
      clearTimeout(timeout);
      if (r.type === "opaqueredirect") { signedOut = true; throw new Error("signed out"); }
      if (r.status >= 400 && r.status < 500) { say(T.handin_stale); return; }  // e.g. signed in again elsewhere: a reload resumes
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json().then(function (body) {
        forget(keys);
        if (body.notice) store(keys.notice, body.notice);  // shown by the result page
        window.location.replace(body.url);
      });
    }).catch(function () { busy = false; clearTimeout(timeout); wait(); });
  }
  function wait() {
    say(signedOut ? T.signed_out : navigator.onLine ? T.handin_retry : T.handin_offline);
    handTimer = setTimeout(deliver, 5000);
  }

  var typing = {};
  form.addEventListener("change", function (e) {
    var q = e.target.closest("section.q"); if (!q || immediate) return;
    var pos = q.dataset.position, t = typing[pos];
    if (t) { clearTimeout(t.timer); delete typing[pos]; }
    changed(pos, t && t.at);
  });
  form.addEventListener("input", function (e) {
    var q = e.target.closest("section.q"); if (!q || immediate || q.dataset.kind !== "fill") return;
    var pos = q.dataset.position, at = Date.now();
    if (typing[pos]) clearTimeout(typing[pos].timer);
    typing[pos] = { at: at, timer: setTimeout(function () { delete typing[pos]; changed(pos, at); }, 800) };
  });
  window.addEventListener("online", function () {
    if (handing) { deliver(); return; }
    retryDelay = 2000; flush(); summary();
  });
  window.addEventListener("offline", function () { if (handing && !busy) wait(); else summary(); });

  // Answers given while offline, or before the page was closed, come back and are sent again.
  Object.keys(pending).forEach(function (pos) {
    if (!section(pos)) { delete pending[pos]; return; }
    apply(pos, pending[pos].answer);
    mark(pos, "pending");
    if (immediate) lock(pos);
  });
  questions.forEach(function (q) { given[q.dataset.position] = answerOf(q.dataset.position); });
  flush();
  summary();

  // Countdown from the server's remaining seconds, re-anchored on the clock so background tabs stay right.
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(left) {
    var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    if (d) return T.days.replace("{d}", d).replace("{h}", h);
    return (h ? h + ":" + two(m) : m) + ":" + two(s);
  }
  var timer = document.getElementById("timer");
  function tick() {
    if (endAt === null || !timer) return;
    var left = Math.max(0, Math.round((endAt - Date.now()) / 1000));
    timer.textContent = T.left + " " + clock(left);
    timer.className = "timer" + (left < 120 ? " low" : "");
    if (left === 0 && !closed) handIn(true);
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", tick);
  if (load(keys.handin, 0)) handIn();  // the member had handed in before the page was left: carry on

  var dialog = document.getElementById("confirm");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (handing) return;
    var missing = questions.filter(function (q) { return !isAnswered(q.dataset.position); }).length;
    var unsent = Object.keys(pending).length, text = "";
    if (missing) text += T.unanswered.replace("{n}", missing);
    if (unsent) text += T.unsent.replace("{n}", unsent);
    document.getElementById("confirm-text").textContent = text;
    dialog.hidden = false;
    document.getElementById("confirm-yes").focus();
  });
  document.getElementById("confirm-yes").addEventListener("click", function () { dialog.hidden = true; handIn(); });
  document.getElementById("confirm-no").addEventListener("click", function () { dialog.hidden = true; });
})();
