/* Quiz page enhancement: save each answer as it is given, keep unsent answers on the phone, count
   down to the server's deadline, and hand in without ever leaving for the browser's error page: the
   answers stay on the phone until the server has confirmed the hand-in, which is retried until the
   network returns. On the result page, answers still on the phone are handed in late, and the server
   names the ones it did not count.

   Several pages of one paper (two tabs, two phones) agree: each answer is numbered by the server's
   clock (milliseconds x 1000 + this page's id), so the later answer wins wherever it was given; an
   answer the server kept a newer one over is replaced on this page by the server's; and tabs of one
   browser share one entry per unsent answer in localStorage, each told of the other's by the
   "storage" event. */
(function () {
  "use strict";
  if (!window.fetch || !window.JSON || !window.FormData) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var canStore = (function () {
    try { localStorage.setItem("lh-probe", "1"); localStorage.removeItem("lh-probe"); return true; } catch (e) { return false; }
  })();

  function read(key) {
    try { var v = localStorage.getItem(key); return v ? JSON.parse(v) : null; } catch (e) { return null; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function drop(key) { try { localStorage.removeItem(key); } catch (e) { /* no storage */ } }
  function keysOf(id) { return { answer: "lh-a-" + id + "-", handin: "lh-handin-" + id, notice: "lh-notice-" + id }; }
  // Every unsent answer of the attempt on this phone: {position: {answer, seq, at}}.
  function stored(keys) {
    var out = {}, i, k, legacy;
    try {
      for (i = 0; i < localStorage.length; i++) {
        k = localStorage.key(i);
        if (k && k.indexOf(keys.answer) === 0) out[k.slice(keys.answer.length)] = read(k);
      }
      legacy = read(keys.answer.replace("lh-a-", "lh-pending-").slice(0, -1));  // one queue per attempt, before
      if (legacy) Object.keys(legacy).forEach(function (p) { if (!out[p]) out[p] = legacy[p]; });
    } catch (e) { /* no storage */ }
    Object.keys(out).forEach(function (p) { if (!out[p] || typeof out[p].seq !== "number") delete out[p]; });
    return out;
  }
  function forgetAll(keys) {
    Object.keys(stored(keys)).forEach(function (p) { drop(keys.answer + p); });
    drop(keys.answer.replace("lh-a-", "lh-pending-").slice(0, -1));
    drop(keys.handin);
  }
  function post(url, body, signal, token) {
    var headers = { "Accept": "application/json" };
    if (token) headers["X-Attempt-Token"] = token;
    return fetch(url, { method: "POST", credentials: "same-origin", redirect: "manual", headers: headers, body: body, signal: signal });
  }
  function handInData(token, answers) {  // answers: {position: {answer, seq}}
    var data = new FormData();
    data.append("csrf_token", csrf);
    if (token) data.append("attempt_token", token);
    data.append("shown", Object.keys(answers).join(","));
    Object.keys(answers).forEach(function (p) {
      [].concat(answers[p].answer).forEach(function (v) { data.append("q" + p, v); });
      data.append("s" + p, answers[p].seq);
    });
    return data;
  }

  // The result page: it shows the hand-in's notice (which answers were not counted), and answers
  // still on the phone (the paper was closed while it was offline) go to the hand-in, which names them.
  var result = document.getElementById("handed-in");
  if (result) {
    var rkeys = keysOf(result.dataset.attempt), left = stored(rkeys);
    var tell = function (notice) {
      var box = document.createElement("div"), main = document.querySelector("main");
      box.className = "flash flash-error";
      box.setAttribute("role", "status");
      box.textContent = notice;
      main.insertBefore(box, main.firstChild);
    };
    if (read(rkeys.notice)) { tell(read(rkeys.notice)); drop(rkeys.notice); }
    if (!Object.keys(left).length) { forgetAll(rkeys); return; }
    post(result.dataset.submitUrl, handInData(null, left)).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (!body || !body.ok) return;
      forgetAll(rkeys);
      if (body.notice) tell(body.notice);
    }).catch(function () { /* offline: tried again on the next visit */ });
    return;
  }

  var form = document.getElementById("paper");
  if (!form) return;
  var T = JSON.parse(document.getElementById("quiz-text").textContent);
  var keys = keysOf(form.dataset.attempt), saveUrl = form.dataset.saveUrl, stateUrl = form.dataset.stateUrl;
  var token = form.dataset.token || null;
  var questions = Array.prototype.slice.call(form.querySelectorAll("section.q"));
  var net = document.getElementById("net"), banner = document.getElementById("handin"), button = document.getElementById("submit-btn");
  var closed = false, signedOut = false, handing = false, busy = false, timeUp = false, handText = "", storageLost = !canStore;
  var retryDelay = 2000, retryTimer = null, handTimer = null, inFlight = {}, given = {}, typing = {};
  // Immediate feedback: an answer is final once confirmed, and its key and explanation show at once.
  var immediate = form.dataset.immediate === "1";

  // The server's clock, read on the page's monotonic one: the server's time when it rendered the page is
  // anchored at the moment its response began (a slow page load is not added; a phone clock change moves nothing).
  var nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  var anchor = nav && nav.responseStart > 0 ? nav.responseStart : performance.now();
  var offset = parseInt(form.dataset.serverMs, 10) - anchor;
  var endAt = form.dataset.secondsLeft ? anchor + parseInt(form.dataset.secondsLeft, 10) * 1000 : null;
  var pageId = Math.floor(Math.random() * 1000), lastSeq = parseInt(form.dataset.lastSeq || "0", 10);
  function nextSeq() {
    var s = Math.floor(offset + performance.now()) * 1000 + pageId;
    if (s <= lastSeq) s = (Math.floor(lastSeq / 1000) + 1) * 1000 + pageId;
    lastSeq = s;
    return s;
  }

  function section(pos) { return document.getElementById("q" + pos); }
  function inputs(pos) { return section(pos).querySelectorAll("fieldset input"); }
  function seqInput(pos) { return form.querySelector('input[name="s' + pos + '"]'); }
  function shownSeq(pos) { return parseInt(seqInput(pos).value || "0", 10); }
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
    var kind = section(pos).dataset.kind, list = inputs(pos), values = [].concat(answer).map(String), i;
    for (i = 0; i < list.length; i++) {
      if (kind === "fill") list[i].value = values[i] || "";
      else list[i].checked = values.indexOf(list[i].value) !== -1;
    }
  }
  function mark(pos, state) {
    var el = section(pos).querySelector(".save-state");
    el.className = "save-state " + (state === "newer" ? "pending" : state);
    el.textContent = { saved: T.saved, saving: T.saving, pending: T.pending, newer: T.newer }[state];
  }
  function summary() {
    var n = Object.keys(pending).length, answered = questions.filter(function (q) { return isAnswered(q.dataset.position); }).length;
    document.getElementById("progress").textContent = T.answered.replace("{a}", answered).replace("{n}", questions.length);
    net.className = "save-state " + (n || handing ? "pending" : "saved");
    if (handing) net.textContent = handText;
    else if (signedOut && n) net.textContent = T.signed_out;
    else if (!navigator.onLine && n) net.textContent = storageLost ? T.offline_memory : T.offline;
    else if (n) net.textContent = T.pending;
    else net.textContent = answered ? T.all_saved : "";  // every answer acknowledged by the server
    document.getElementById("no-storage").hidden = !storageLost;
  }

  // The queue of unsent answers: in memory, and one localStorage entry per answer shared by the tabs.
  var pending = {};
  function queue(pos, item) {
    pending[pos] = item;
    if (canStore && !write(keys.answer + pos, item)) storageLost = true;  // full: the member is told
  }
  function done(pos, seq) {  // acknowledged (or superseded): forget it unless a newer one came meanwhile
    if (pending[pos] && pending[pos].seq <= seq) delete pending[pos];
    var kept = read(keys.answer + pos);
    if (kept && kept.seq <= seq) drop(keys.answer + pos);
  }

  function send(pos) {
    var item = pending[pos], sent = item && item.seq;
    if (!item || closed || handing || inFlight[pos] === sent) return;
    inFlight[pos] = sent;
    mark(pos, "saving");
    var headers = { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" };
    if (token) headers["X-Attempt-Token"] = token;
    fetch(saveUrl, {
      method: "POST", credentials: "same-origin", headers: headers,
      redirect: "manual",  // a redirect means the login ended (to the login or password page)
      body: JSON.stringify({ position: Number(pos), q: Number((section(pos) || { dataset: {} }).dataset.q) || undefined, answer: item.answer, seq: sent })
    }).then(function (r) {
      delete inFlight[pos];
      if (handing) return;  // the hand-in carries every answer
      if (r.status === 409) { closed = true; alertClosed(); return; }
      if (r.type === "opaqueredirect" || r.status === 401) { signedOut = true; throw new Error("signed out"); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json().then(function (body) {
        signedOut = false;
        retryDelay = 2000;
        if (body.last_seq > lastSeq) lastSeq = body.last_seq;
        if (body.saved || body.feedback) {
          done(pos, sent);
          if (!pending[pos]) mark(pos, "saved");
        } else {
          refresh();  // the server kept another answer: this one's, resent, or a newer one from another page
        }
        if (pending[pos] && pending[pos].seq !== sent) send(pos);
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
    // A reload resumes as the server has it, unless a hand-in started meanwhile: reloading would cut it
    // off in flight and lose the notice of which answers came too late (the hand-in goes on by itself).
    setTimeout(function () { if (!handing) window.location.reload(); }, 1500);
  }

  // The paper as the server holds it: a newer answer given on another page replaces this page's, and
  // the countdown is set again from the server (a phone asleep may have stopped the page's clock).
  var refreshing = false;
  function refresh() {
    if (refreshing || !stateUrl || handing) return;
    refreshing = true;
    var headers = { "Accept": "application/json" };
    if (token) headers["X-Attempt-Token"] = token;
    fetch(stateUrl, { credentials: "same-origin", headers: headers, redirect: "manual" }).then(function (r) {
      refreshing = false;
      if (!r.ok) return;
      return r.json().then(function (state) {
        if (state.finished) { closed = true; alertClosed(); return; }
        var now = performance.now();
        offset = state.server_ms - now;
        if (state.seconds_left !== null && state.seconds_left !== undefined) endAt = now + state.seconds_left * 1000;
        Object.keys(state.answers).forEach(function (pos) {
          var server = state.answers[pos], mine = pending[pos];
          if (!section(pos)) return;
          if (server.seq > lastSeq) lastSeq = server.seq;
          if (mine && mine.seq > server.seq) return;  // this page's answer is newer: it is on its way
          var moved = server.seq > shownSeq(pos);  // stored since this page last showed it
          var newer = moved && (mine || JSON.stringify([].concat(server.answer).map(String)) !== JSON.stringify([].concat(answerOf(pos))));
          if (mine) done(pos, server.seq);
          if (!moved && !mine) return;
          apply(pos, server.answer);
          given[pos] = answerOf(pos);
          seqInput(pos).value = server.seq;
          if (!pending[pos]) mark(pos, newer ? "newer" : "saved");
        });
        tick();
        summary();
      });
    }).catch(function () { refreshing = false; });
  }

  function changed(pos, at) {  // `at`: when the answer was given (typing is sent a moment later)
    at = at || performance.now();
    if (handing || (endAt !== null && at >= endAt)) { apply(pos, given[pos]); tick(); return; }  // given after the deadline
    given[pos] = answerOf(pos);
    var seq = nextSeq();
    seqInput(pos).value = seq;
    queue(pos, { answer: given[pos], seq: seq, at: Date.now() });
    send(pos);
    summary();
  }
  // Another tab of this browser gave (or sent) an answer of this paper.
  window.addEventListener("storage", function (e) {
    if (!e.key || e.key.indexOf(keys.answer) !== 0 || handing) return;
    var pos = e.key.slice(keys.answer.length), item = e.newValue ? JSON.parse(e.newValue) : null;
    if (!section(pos)) return;
    if (item === null) {  // sent by the other tab: this page's copy of it is acknowledged too
      if (pending[pos] && !inFlight[pos]) refresh();
      return;
    }
    if (item.seq <= shownSeq(pos) || (immediate && inputs(pos)[0].disabled)) return;
    if (item.seq > lastSeq) lastSeq = item.seq;
    apply(pos, item.answer);
    given[pos] = answerOf(pos);
    seqInput(pos).value = item.seq;
    pending[pos] = item;  // the other tab sends it; so does this one, harmlessly, should that tab close first
    send(pos);
    summary();
  });

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
    // Where the question comes from (党章第一条, or a subject and part), as the page was rendered with it.
    var source = section(pos).getAttribute("data-source") || fb.article || "";
    why.textContent = fb.explanation + (source ? "（" + T.from + source + "）" : "");
    box.appendChild(verdict); box.appendChild(key); box.appendChild(why);
    box.hidden = false;
    apply(pos, fb.answer);
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

  // Handing in: the answers the server has not acknowledged go with it, each with its seq (the server
  // keeps a newer one given on another page); nothing leaves the phone's storage until the server
  // answers with the result page's address.
  function say(text) {  // the whole story by the 交卷 button, a short one in the bar and on the button
    handText = text === T.handing ? text : T.waiting;
    button.textContent = handText;
    banner.textContent = (timeUp ? T.time_up : "") + text;
    banner.hidden = false;
    summary();
  }
  function handIn(expired) {
    if (handing) return;
    Object.keys(typing).forEach(function (pos) { clearTimeout(typing[pos].timer); changed(pos, typing[pos].at); });
    typing = {};
    timeUp = !!expired;
    handing = true;
    if (canStore) write(keys.handin, 1);
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
    post(form.action, handInData(token, pending), stop && stop.signal, token).then(function (r) {
      busy = false;
      clearTimeout(timeout);
      if (r.type === "opaqueredirect" || r.status === 401) { signedOut = true; throw new Error("signed out"); }
      if (r.status >= 400 && r.status < 500) { say(T.handin_stale); return; }  // e.g. a page from before: a reload resumes
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json().then(function (body) {
        forgetAll(keys);
        if (body.notice) write(keys.notice, body.notice);  // shown by the result page
        window.location.replace(body.url);
      });
    }).catch(function () { busy = false; clearTimeout(timeout); wait(); });
  }
  function wait() {
    say(signedOut ? T.signed_out : navigator.onLine ? T.handin_retry : T.handin_offline);
    handTimer = setTimeout(deliver, 5000);
  }

  form.addEventListener("change", function (e) {
    var q = e.target.closest("section.q"); if (!q || immediate) return;
    var pos = q.dataset.position, t = typing[pos];
    if (t) { clearTimeout(t.timer); delete typing[pos]; }
    changed(pos, t && t.at);
  });
  form.addEventListener("input", function (e) {
    var q = e.target.closest("section.q"); if (!q || immediate || q.dataset.kind !== "fill") return;
    var pos = q.dataset.position, at = performance.now();
    if (typing[pos]) clearTimeout(typing[pos].timer);
    typing[pos] = { at: at, timer: setTimeout(function () { delete typing[pos]; changed(pos, at); }, 800) };
  });
  window.addEventListener("online", function () {
    if (handing) { deliver(); return; }
    retryDelay = 2000; flush(); refresh(); summary();
  });
  window.addEventListener("offline", function () { if (handing && !busy) wait(); else summary(); });

  // Answers given while offline, or before the page was closed, come back and are sent again, unless
  // the server already holds a newer one (then the page shows that one).
  var kept = stored(keys);
  Object.keys(kept).forEach(function (pos) {
    if (!section(pos)) { drop(keys.answer + pos); return; }
    if (kept[pos].seq <= shownSeq(pos)) { drop(keys.answer + pos); return; }
    pending[pos] = kept[pos];
    if (kept[pos].seq > lastSeq) lastSeq = kept[pos].seq;
    apply(pos, kept[pos].answer);
    seqInput(pos).value = kept[pos].seq;
    mark(pos, "pending");
    if (immediate) lock(pos);
  });
  if (canStore) {  // carried over from the earlier one-queue-per-attempt format
    Object.keys(pending).forEach(function (pos) { write(keys.answer + pos, pending[pos]); });
    drop(keys.answer.replace("lh-a-", "lh-pending-").slice(0, -1));
  }
  questions.forEach(function (q) { given[q.dataset.position] = answerOf(q.dataset.position); });
  flush();
  summary();

  // Countdown to the server's deadline on the page's monotonic clock; set again from the server when
  // the page comes back into view.
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(left) {
    var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    if (d) return T.days.replace("{d}", d).replace("{h}", h);
    return (h ? h + ":" + two(m) : m) + ":" + two(s);
  }
  var timer = document.getElementById("timer");
  function tick() {
    if (endAt === null || !timer) return;
    var left = Math.max(0, Math.round((endAt - performance.now()) / 1000));
    timer.textContent = T.left + " " + clock(left);
    timer.className = "timer" + (left < 120 ? " low" : "");
    if (left === 0 && !closed) handIn(true);
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { tick(); refresh(); } });
  if (read(keys.handin)) handIn();  // the member had handed in before the page was left: carry on

  var dialog = document.getElementById("confirm");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (handing) return;
    var missing = questions.filter(function (q) { return !isAnswered(q.dataset.position); }).length;
    var unsent = Object.keys(pending).length + Object.keys(typing).filter(function (p) { return !pending[p]; }).length, text = "";
    if (missing) text += T.unanswered.replace("{n}", missing);
    if (unsent) text += T.unsent.replace("{n}", unsent);
    document.getElementById("confirm-text").textContent = text;
    dialog.hidden = false;
    document.getElementById("confirm-yes").focus();
  });
  document.getElementById("confirm-yes").addEventListener("click", function () { dialog.hidden = true; handIn(); });
  // A modal dialog for keyboards too: Tab stays inside it, Escape or 继续答题 closes it and gives the focus
  // back to 交卷, where the member was.
  function closeDialog() { dialog.hidden = true; button.focus(); }
  document.getElementById("confirm-no").addEventListener("click", closeDialog);
  dialog.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); closeDialog(); return; }
    if (e.key !== "Tab") return;
    var buttons = dialog.querySelectorAll("button"), first = buttons[0], last = buttons[buttons.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });

  // Leaving an unfinished paper by a link (top bar, 返回 ...) or 退出 asks first, in the page: the
  // answers are kept and the clock keeps running. Esc or 继续答题 stays; without <dialog>, links just go.
  var leave = document.getElementById("leave"), away = null;
  if (!leave || !leave.showModal) return;
  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("a[href], .topbar button[type=submit]");
    if (!el || handing || closed || leave.open || e.defaultPrevented || e.button || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    if (el.target === "_blank" || (el.hash && el.pathname === location.pathname)) return;  // a new tab, or a place in this page
    e.preventDefault();
    away = el;
    var n = Object.keys(pending).length + Object.keys(typing).filter(function (p) { return !pending[p]; }).length;
    document.getElementById("leave-unsent").textContent = n ? (storageLost ? T.leave_lost : T.leave_unsent).replace("{n}", n) : "";
    leave.showModal();
    document.getElementById("leave-stay").focus();
  });
  document.getElementById("leave-stay").addEventListener("click", function () { leave.close(); });
  document.getElementById("leave-go").addEventListener("click", function () {
    leave.close();
    Object.keys(typing).forEach(function (pos) { clearTimeout(typing[pos].timer); changed(pos, typing[pos].at); });
    typing = {};
    if (away.form) away.form.submit(); else window.location.href = away.href;
  });
})();
