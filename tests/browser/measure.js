// What a person on a 360 px phone meets on the page now: targets too small to hit, text too small to read,
// a page wider than the screen. Returns a list of problems, each naming the element.
() => {
  const MIN_TARGET = 24;  // WCAG 2.2 SC 2.5.8 (AA)
  const MIN_TEXT = 14;    // the floor for any visible text, in CSS px
  const OWN_TARGET = 44;  // our own buttons and form fields: 44 px high (WCAG 2.5.5, the "where practical")
  const problems = [];

  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") return false;
    if (el.closest("[hidden], [aria-hidden=true]")) return false;
    if (el.closest("details:not([open])") && !el.matches("summary") && !el.closest("summary")) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  // A visually hidden element (kept for screen readers): clipped to a pixel or two.
  const srOnly = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.clipPath === "inset(50%)" || s.clip.startsWith("rect(0")) return true;
      const r = e.getBoundingClientRect();
      if (s.overflow === "hidden" && r.width <= 2 && r.height <= 2) return true;
    }
    return false;
  };
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    else if (el.classList.length) name += "." + [...el.classList].join(".");
    if (el.type && el.tagName === "INPUT") name += `[type=${el.type}]`;
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    return text ? `${name} "${text.slice(0, 30)}"` : name;
  };

  // WCAG 2.5.8 exempts a target "in a sentence or its size is otherwise constrained by the line-height of
  // non-target text": an inline link inside running text. We count as running text a block whose own words
  // (outside any link or control) hold at least four letters; a breadcrumb's " · " does not.
  const blockOf = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      if (!getComputedStyle(e).display.startsWith("inline")) return e;
    }
    return document.body;
  };
  const inRunningText = (el) => {
    if (el.tagName !== "A") return false;
    if (getComputedStyle(el).display !== "inline") return false;
    const block = blockOf(el);
    let words = "";
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.parentElement.closest("a, button, input, select, textarea, summary, label")) words += n.nodeValue;
    }
    return (words.match(/[\p{L}\p{N}]/gu) || []).length >= 4;
  };

  // The targets: every visible link, button, control and summary. A check box or radio button is hit through
  // its label, so the label is the target (the box alone may be small); a label of any other control counts too.
  const targets = new Map();
  const add = (el, target) => { if (visible(target) && !srOnly(target)) targets.set(target, el); };
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, label")) {
    if (el.matches("label")) {
      if (el.control) add(el, el);
      continue;
    }
    if (el.matches("input[type=checkbox], input[type=radio]") && el.labels && el.labels.length) {
      for (const label of el.labels) add(label, label);
      continue;
    }
    add(el, el);
  }
  const boxes = [...targets.keys()].map((el) => ({ el, r: el.getBoundingClientRect() }));
  const contains = (a, b) => a.el !== b.el && (a.el.contains(b.el) || b.el.contains(a.el));
  const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
  const distToRect = ([x, y], r) => Math.hypot(Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  const small = (b) => b.r.width < MIN_TARGET - 0.01 || b.r.height < MIN_TARGET - 0.01;
  for (const b of boxes) {
    if (!small(b) || inRunningText(b.el)) continue;
    // The spacing exception: a 24 px circle centred on the target touches no other target, nor the circle
    // of another undersized target.
    const c = centre(b.r);
    const crowded = boxes.find((o) => o !== b && !contains(b, o) && (
      distToRect(c, o.r) < MIN_TARGET / 2 ||
      (small(o) && Math.hypot(c[0] - centre(o.r)[0], c[1] - centre(o.r)[1]) < MIN_TARGET)));
    if (crowded) {
      problems.push(`target ${describe(b.el)} is ${Math.round(b.r.width)}×${Math.round(b.r.height)} px and crowds ${describe(crowded.el)}`);
    } else if (b.r.width < MIN_TARGET / 2 || b.r.height < MIN_TARGET / 2) {
      problems.push(`target ${describe(b.el)} is only ${Math.round(b.r.width)}×${Math.round(b.r.height)} px`);
    }
  }

  for (const b of boxes) {
    if (b.el.matches(".btn, select, textarea, input:not([type=checkbox]):not([type=radio])") && b.r.height < OWN_TARGET - 0.5) {
      problems.push(`${describe(b.el)} is ${Math.round(b.r.height)} px high, under our ${OWN_TARGET} px`);
    }
  }

  // Text: the size each visible run of text is drawn at. In an SVG the font size is scaled with the drawing.
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.nodeValue.trim() || seen.has(el) || el.closest("script, style, noscript, title")) continue;
    seen.add(el);
    if (!visible(el) || srOnly(el)) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement && el.getScreenCTM) {
      const m = el.getScreenCTM();
      size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    }
    if (size < MIN_TEXT - 0.05) problems.push(`text ${describe(el)} is ${size.toFixed(1)} px`);
  }

  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth) problems.push(`the page is ${width} px wide on a ${window.innerWidth} px screen`);
  return problems;
}
