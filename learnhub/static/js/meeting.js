/* Meeting quizzes. The projector (body[data-role=screen]) and the phones (#phone[data-role=phone]) poll a
   small JSON state with If-None-Match: a poll that finds nothing new is a 304. The server says when to
   poll next (X-Poll-After: longer while many meetings run at once). A phone sends its page's token
   (data-token) with polls and answers. The countdown is the server's seconds left, anchored when the
   state arrived.

   A phone saves each answer as it is given: kept in localStorage first (one entry per question), sent,
   dropped only once the server acknowledged it; unsent answers go again when the network returns
   (the "online" event, and a retry timer). A later answer carries a higher seq and replaces the
   earlier one while the question is open; a question that has closed refuses it (409), and the phone
   says so. Text from the server is set with textContent only. */
(function () {
  "use strict";
  if (!window.fetch || !window.JSON) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content;
  var screen = document.body.dataset.role === "screen" ? document.body : null;
  var phone = document.getElementById("phone");
  var root = screen || phone;
  if (!root) return;
  function $(id) { return document.getElementById(id); }
  function show(id, on) { var el = $(id); if (el) el.hidden = !on; }
  function text(id, value) { var el = $(id); if (el) el.textContent = value === undefined || value === null ? "" : value; }
  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  // The answer page's own token: its polls and answers need no session decoding and no CSRF token.
  var token = root.dataset.token || "";
  var tag = null, state = null, endAt = null, pollTimer = null, pollEvery = screen ? 1000 : 1500;
  function poll() {
    clearTimeout(pollTimer);
    var headers = { "Accept": "application/json" };
    if (tag) headers["If-None-Match"] = tag;
    if (token) headers["X-Meeting-Token"] = token;
    fetch(root.dataset.stateUrl, { credentials: "same-origin", cache: "no-store", headers: headers, redirect: "manual" })
      .then(function (r) {
        // The server paces the polls: longer waits while many meetings run at once.
        var after = Number(r.headers.get("X-Poll-After"));
        if (after >= 500 && after <= 60000) pollEvery = after;
        if (r.status === 304) return null;
        if (!r.ok) throw new Error("HTTP " + r.status);
        tag = r.headers.get("ETag");
        return r.json();
      })
      .then(function (s) { if (s) { state = s; render(s); } })
      .catch(function () { /* offline: the next poll tries again */ })
      .then(function () { pollTimer = setTimeout(poll, pollEvery * (0.9 + Math.random() * 0.2)); });
  }
  function anchor(s) { endAt = typeof s.seconds_left === "number" ? performance.now() + s.seconds_left * 1000 : null; }
  function left() { return endAt === null ? null : Math.max(0, Math.ceil((endAt - performance.now()) / 1000)); }

  // ---- the projector -------------------------------------------------------------------------------
  function renderScreen(s) {
    anchor(s);
    show("lobby", s.phase === "lobby");
    show("asking", s.phase === "open" || s.phase === "closing");
    show("results", s.phase === "closed");
    show("summary", s.phase === "ended");
    text("joined", s.joined);
    text("progress", s.position ? "第 " + s.position + " / " + s.total + " 题" : "共 " + s.total + " 题");
    show("f-next", s.phase !== "ended" && s.position < s.total && s.phase !== "open" && s.phase !== "closing");
    show("f-close", s.phase === "open" || s.phase === "closing");
    show("f-end", s.phase !== "ended");
    if (s.position) text("btn-next", "下一题");
    if (s.question && (s.phase === "open" || s.phase === "closing")) {
      text("q-kind", s.question.kind_label);
      text("q-pos", "第 " + s.position + " 题");
      text("q-stem", s.question.stem);
      var list = $("q-options"); list.textContent = "";
      s.question.labels.forEach(function (label, i) {
        var li = el("li"); li.appendChild(el("b", "", label));
        li.appendChild(document.createTextNode(s.question.options[i] || ""));
        list.appendChild(li);
      });
      text("answered", s.answered); text("present", s.joined);
    }
    if (s.phase === "closed" && s.results) renderResults(s);
    if (s.phase === "ended") renderSummary(s.summary || []);
    tick();
  }
  function renderResults(s) {
    var r = s.results, q = s.question, most = Math.max.apply(null, r.counts.concat([1]));
    text("r-pos", "第 " + s.position + " 题");
    text("r-share", r.share + "%"); text("r-answered", r.answered); text("r-present", r.present);
    text("r-stem", q.stem);
    var bars = $("r-bars"); bars.textContent = "";
    q.labels.forEach(function (label, i) {
      var li = el("li", r.right && r.right.indexOf(i) >= 0 ? "right" : "");
      var name = el("span"); name.appendChild(el("b", "", label + " ")); name.appendChild(document.createTextNode(q.options[i] || ""));
      var track = el("span", "track"), fill = el("span", "fill");
      fill.style.width = Math.round(100 * r.counts[i] / most) + "%";
      track.appendChild(fill);
      li.appendChild(name); li.appendChild(track); li.appendChild(el("span", "n", String(r.counts[i])));
      bars.appendChild(li);
    });
    show("r-explain", !r.withheld); show("r-withheld", !!r.withheld);
    if (!r.withheld) {
      text("r-right", r.right.map(function (i) { return q.labels[i]; }).join("、"));
      text("r-text", r.explanation);
      text("r-source", "出处：" + (r.source || "《中国共产党章程》" + (r.article || "")) + " · 知识点：" + (r.point || ""));
    }
  }
  function rate(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  function renderSummary(rows) {
    var body = $("s-rows"); body.textContent = "";
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("td", "", row.point));
      tr.appendChild(el("td", "", rate(row.before) + (row.before_n ? "（" + row.before_n + " 次）" : "")));
      var now = el("td", row.before !== null && row.now !== null ? (row.now >= row.before ? "up" : "down") : "",
                   rate(row.now) + (row.now_n ? "（" + row.now_n + " 次）" : ""));
      tr.appendChild(now);
      body.appendChild(tr);
    });
  }

  // ---- the phone -----------------------------------------------------------------------------------
  var meetingId = phone && phone.dataset.meeting, picked = [], pageId = Math.floor(Math.random() * 1000);
  var lastSeq = 0, inFlight = {}, retryTimer = null, retryDelay = 1500;
  function key(pos) { return "lh-m-" + meetingId + "-" + pos; }
  function read(pos) { try { var v = localStorage.getItem(key(pos)); return v ? JSON.parse(v) : null; } catch (e) { return null; } }
  function keep(pos, item) { try { localStorage.setItem(key(pos), JSON.stringify(item)); } catch (e) { /* no storage: memory only */ } }
  function drop(pos, seq) { var kept = read(pos); if (kept && kept.seq <= seq) { try { localStorage.removeItem(key(pos)); } catch (e) { /* none */ } } }
  var memory = {};
  function pendingPositions() {
    var out = Object.keys(memory);
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i), prefix = "lh-m-" + meetingId + "-";
        if (k && k.indexOf(prefix) === 0 && out.indexOf(k.slice(prefix.length)) < 0) out.push(k.slice(prefix.length));
      }
    } catch (e) { /* no storage */ }
    return out;
  }
  function saveLine(cls, msg) { var line = $("p-save"); line.className = "save-line " + cls; line.textContent = msg; }
  function nextSeq() { lastSeq = Math.max(lastSeq + 1, Date.now() * 1000 + pageId); return lastSeq; }

  function give(pos, answer) {
    var item = { answer: answer, seq: nextSeq() };
    memory[pos] = item; keep(pos, item);
    saveLine("pending", "正在提交…");
    send(pos);
  }
  function send(pos) {
    var item = memory[pos] || read(pos);
    if (!item || inFlight[pos] === item.seq) return;
    inFlight[pos] = item.seq;
    fetch(phone.dataset.answerUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: token ? { "Content-Type": "application/json", "Accept": "application/json", "X-Meeting-Token": token }
                     : { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ position: Number(pos), answer: item.answer, seq: item.seq })
    }).then(function (r) {
      delete inFlight[pos];
      if (r.status === 409) { forget(pos, item.seq); if (isCurrent(pos)) saveLine("bad", "这道题已经结束，答案没有保存"); return; }
      if (r.status === 400) { forget(pos, item.seq); saveLine("bad", "答案无效，请重新选择"); return; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      forget(pos, item.seq);
      retryDelay = 1500;
      if (isCurrent(pos) && !memory[pos]) saveLine("saved", "已提交 ✓ 答题结束前可以改选");
      if (memory[pos]) send(pos);
    }).catch(function () {
      delete inFlight[pos];
      saveLine("pending", "网络中断：答案已保存在手机上，恢复后自动提交");
      if (!retryTimer) retryTimer = setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
    });
  }
  function forget(pos, seq) { if (memory[pos] && memory[pos].seq <= seq) delete memory[pos]; drop(pos, seq); }
  function flush() { pendingPositions().forEach(send); }
  function isCurrent(pos) { return state && String(state.position) === String(pos); }

  function renderPhone(s) {
    anchor(s);
    var asking = s.phase === "open" || s.phase === "closing";
    show("p-question", asking);
    var status = { lobby: "已加入，请等待书记出题", closed: "本题已结束，请看大屏幕上的答案和解析",
                   ended: "会议测验已结束，谢谢参与", closing: "时间到", open: "" }[s.phase];
    text("status", status);
    if (!asking) { if (s.phase !== "closed") saveLine("", ""); tick(); return; }
    var pending = memory[s.position] || read(s.position);
    var mine = pending ? indexes(s.question, pending.answer) : (s.mine ? s.mine.answer : []);
    if (phone.dataset.shown !== String(s.position)) {
      phone.dataset.shown = String(s.position);
      picked = mine.slice();
      buildButtons(s);
      saveLine(pending ? "pending" : (s.mine ? "saved" : ""), pending ? "等待提交…" : (s.mine ? "已提交 ✓ 答题结束前可以改选" : ""));
      if (pending) send(s.position);
    }
    tick();
  }
  function indexes(q, answer) {  // what this phone sent, as button positions
    if (q.kind === "truefalse") return [answer === "true" || answer === true ? 0 : 1];
    return [].concat(answer).map(Number);
  }
  function buildButtons(s) {
    var q = s.question, box = $("p-answers");
    text("p-pos", "第 " + s.position + " / " + s.total + " 题"); text("p-kind", q.kind_label); text("p-stem", q.stem);
    box.textContent = ""; box.className = "answers" + (q.kind === "truefalse" ? " tf" : "");
    show("p-submit", false);
    if (q.withheld) return;  // on an exam this member sits: neither shown nor answered here
    q.labels.forEach(function (label, i) {
      var b = el("button"); b.type = "button"; b.dataset.i = i;
      b.appendChild(el("b", "", label));
      if (q.kind !== "truefalse") b.appendChild(el("span", "", q.options[i] || ""));
      b.setAttribute("aria-pressed", picked.indexOf(i) >= 0 ? "true" : "false");
      b.addEventListener("click", function () { choose(s, i); });
      box.appendChild(b);
    });
    show("p-submit", q.kind === "multiple");
  }
  function choose(s, i) {
    if (!state || String(state.position) !== String(s.position) || (state.phase !== "open" && state.phase !== "closing")) return;
    var multiple = s.question.kind === "multiple";
    if (multiple) { var at = picked.indexOf(i); if (at >= 0) picked.splice(at, 1); else picked.push(i); }
    else picked = [i];
    [].forEach.call($("p-answers").children, function (b) { b.setAttribute("aria-pressed", picked.indexOf(Number(b.dataset.i)) >= 0 ? "true" : "false"); });
    if (multiple) { saveLine("", picked.length ? "选好后请点“提交所选答案”" : ""); return; }
    give(s.position, s.question.kind === "truefalse" ? (i === 0 ? "true" : "false") : i);
  }

  // ---- both ----------------------------------------------------------------------------------------
  function render(s) { if (screen) renderScreen(s); else renderPhone(s); }
  function tick() {
    var n = left();
    text(screen ? "countdown" : "p-countdown", n === null ? "" : (n > 0 ? n + " 秒" : "时间到"));
  }
  setInterval(tick, 250);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { tag = null; poll(); } });
  if (phone) {
    $("p-submit").addEventListener("click", function () {
      if (!state || !picked.length) { saveLine("bad", "请先选择答案"); return; }
      give(state.position, picked.slice().sort());
    });
    window.addEventListener("online", function () { retryDelay = 1500; flush(); poll(); });
    flush();
  }
  poll();
})();
