/* Quiz page enhancement: save each answer as it is given, keep unsent answers on the phone,
   count down from the server's remaining seconds, confirm the hand-in in the page. */
(function () {
  "use strict";
  var form = document.getElementById("paper");
  if (!form || !window.fetch || !window.JSON) return;
  var T = JSON.parse(document.getElementById("quiz-text").textContent);
  var attemptId = form.dataset.attempt;
  var saveUrl = form.dataset.saveUrl;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var pendingKey = "lh-pending-" + attemptId, seqKey = "lh-seq-" + attemptId;
  var questions = Array.prototype.slice.call(form.querySelectorAll("section.q"));
  var net = document.getElementById("net");
  var closed = false, signedOut = false, retryDelay = 2000, retryTimer = null, inFlight = {};
  // Immediate feedback: an answer is final once confirmed, and its key and explanation show at once.
  var immediate = form.dataset.immediate === "1";

  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function store(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ } }
  var pending = load(pendingKey, {});
  var seq = Math.max(parseInt(form.dataset.lastSeq || "0", 10), load(seqKey, 0));

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
    if (signedOut && n) { net.className = "save-state pending"; net.textContent = T.signed_out; }
    else if (!navigator.onLine && n) { net.className = "save-state pending"; net.textContent = T.offline; }
    else if (n) { net.className = "save-state pending"; net.textContent = T.pending; }
    else if (answered) { net.className = "save-state saved"; net.textContent = T.all_saved; }
    else { net.textContent = ""; }
  }

  function send(pos) {
    var item = pending[pos];
    if (!item || closed || inFlight[pos] === item.seq) return;
    inFlight[pos] = item.seq;
    mark(pos, "saving");
    fetch(saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      redirect: "manual",  // a redirect means the session ended (to the login or password page)
      body: JSON.stringify({ position: Number(pos), q: Number((section(pos) || { dataset: {} }).dataset.q) || undefined, answer: item.answer, seq: item.seq })
    }).then(function (r) {
      delete inFlight[pos];
      if (r.status === 409) { closed = true; alertClosed(); return; }
      if (r.type === "opaqueredirect") { signedOut = true; throw new Error("signed out"); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json().then(function (body) {
        signedOut = false;
        if (body.last_seq > seq) { seq = body.last_seq; store(seqKey, seq); }
        if (pending[pos] && pending[pos].seq === item.seq) { delete pending[pos]; store(pendingKey, pending); mark(pos, "saved"); }
        if (body.feedback) showFeedback(pos, body.feedback);
        retryDelay = 2000;
        summary();
      });
    }).catch(function () {
      delete inFlight[pos];
      mark(pos, "pending");
      summary();
      scheduleRetry();
    });
  }
  function flush() { Object.keys(pending).forEach(send); }
  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }
  function alertClosed() {
    net.className = "save-state pending"; net.textContent = T.closed;
    setTimeout(function () { window.location.reload(); }, 1500);
  }
  function changed(pos) {
    seq += 1; store(seqKey, seq);
    pending[pos] = { answer: answerOf(pos), seq: seq };
    store(pendingKey, pending);
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
    var button = section(pos).querySelector("button.confirm");
    if (button) { button.disabled = true; button.hidden = true; }
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
    lock(pos);
  }
  if (immediate) {
    questions.forEach(function (q) {
      var button = q.querySelector("button.confirm");
      if (!button || button.disabled) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        if (!isAnswered(q.dataset.position)) return;
        changed(q.dataset.position);
        lock(q.dataset.position);
      });
    });
  }

  var typing = {};
  form.addEventListener("change", function (e) {
    var q = e.target.closest("section.q"); if (q && !immediate) changed(q.dataset.position);
  });
  form.addEventListener("input", function (e) {
    var q = e.target.closest("section.q"); if (!q || immediate || q.dataset.kind !== "fill") return;
    clearTimeout(typing[q.dataset.position]);
    typing[q.dataset.position] = setTimeout(function () { changed(q.dataset.position); }, 800);
  });
  window.addEventListener("online", function () { retryDelay = 2000; flush(); summary(); });
  window.addEventListener("offline", summary);

  // Answers given while offline, or before the page was closed, come back and are sent again.
  Object.keys(pending).forEach(function (pos) {
    if (!section(pos)) { delete pending[pos]; return; }
    apply(pos, pending[pos].answer);
    if (immediate) lock(pos);
  });
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
  if (timer && form.dataset.secondsLeft) {
    var endAt = Date.now() + parseInt(form.dataset.secondsLeft, 10) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((endAt - Date.now()) / 1000));
      timer.textContent = T.left + " " + clock(left);
      timer.className = "timer" + (left < 120 ? " low" : "");
      if (left === 0 && !closed) { closed = true; handIn(); }
    };
    tick();
    setInterval(tick, 1000);
    document.addEventListener("visibilitychange", tick);
  }

  var dialog = document.getElementById("confirm");
  function handIn() {
    // Locked answers still travel with the form, in case one never reached the server.
    Array.prototype.forEach.call(form.querySelectorAll("input:disabled, fieldset:disabled"), function (el) { el.disabled = false; });
    store(pendingKey, {});
    form.submit();
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
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
