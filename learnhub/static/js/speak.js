/* 朗读: read a question and its options aloud with the phone's own speech synthesis (no server, no
   network), on phones that have a Chinese voice; the buttons stay hidden on phones that have none,
   including while the voices are still loading (they come later, with "voiceschanged").

   Only the stem and the options are read, as the page shows them: never the feedback of an answered
   question (its key and explanation), so nothing is heard that the page has not already shown.
   Loaded on the quiz and practice pages only. */
(function () {
  "use strict";
  var synth = window.speechSynthesis;
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-speak]"));
  if (!synth || !window.SpeechSynthesisUtterance || !buttons.length) return;
  var voice = null, current = null, run = 0;

  // A Chinese voice: zh-CN first, then any zh-* (Android may write zh_CN, or cmn-Hans-CN).
  function chineseVoice() {
    var voices = synth.getVoices() || [], other = null, i, lang;
    for (i = 0; i < voices.length; i++) {
      lang = String(voices[i].lang || "").replace(/_/g, "-").toLowerCase();
      if (lang === "zh-cn" || lang.indexOf("cmn-hans") === 0) return voices[i];
      if (!other && (lang.indexOf("zh") === 0 || lang.indexOf("cmn") === 0)) other = voices[i];
    }
    return other;
  }

  function label(button, speaking) {
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    button.textContent = button.getAttribute(speaking ? "data-stop" : "data-label");
  }

  function stop() {
    run += 1;
    synth.cancel();
    if (current) label(current, false);
    current = null;
  }

  // What the page shows of the question: its stem, then each option ("A. ..."), a blank read as 填空.
  function texts(section) {
    var parts = [], stem = section.querySelector(".stem");
    if (stem) parts.push(stem.textContent);
    Array.prototype.forEach.call(section.querySelectorAll(".opt span"), function (opt) { parts.push(opt.textContent); });
    return parts.map(function (t) { return t.replace(/_{3,}/g, "（填空）").replace(/\s+/g, " ").trim(); })
      .filter(function (t) { return t; });
  }

  function speak(button) {
    var section = button.closest(".q"), parts = section ? texts(section) : [], mine;
    stop();
    if (!voice || !parts.length) return;
    mine = run;
    current = button;
    label(button, true);
    // One utterance per part: a pause between options, and no long utterance for a browser to cut short.
    parts.forEach(function (text, i) {
      var u = new SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = String(voice.lang).replace(/_/g, "-");
      u.rate = 0.9;
      if (i === parts.length - 1) {
        u.onend = u.onerror = function () {
          if (mine === run && current) { label(current, false); current = null; }
        };
      }
      synth.speak(u);
    });
  }

  function update() {
    voice = chineseVoice();
    buttons.forEach(function (b) { b.hidden = !voice; });
    if (!voice && current) stop();
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      if (current === button) stop(); else speak(button);
    });
  });
  if (synth.addEventListener) synth.addEventListener("voiceschanged", update);
  else synth.onvoiceschanged = update;
  // Leaving the page (hand-in, a link) ends the reading: some browsers would go on speaking.
  window.addEventListener("pagehide", function () { if (current) stop(); });
  update();
})();
