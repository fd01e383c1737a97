"""大字模式 and 朗读 on a small phone (360×640), in a real browser.

The switch at the foot of every page puts it in large type (text of 20 px and more, targets of 48 px and
more) and back, in place with JavaScript and by a plain form post without; the account keeps it. The
朗读 button reads a question's stem and options with the phone's own Chinese voice (speechSynthesis,
stubbed here to record what it is asked to say), is hidden on a phone without one, and never reads a key.
Screenshots of member home, quiz, review, branch page and weak-branch report in large type go under
test-results/browser/<test>/.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, Organisation, Question, ShowAnswers, User
from learnhub.services.exam import quizzes

from ..factories import PASSWORD, make_assignment
from ..security.conftest import foreign, shared  # noqa: F401 (fixtures: the access matrix's objects)
from ..security.test_matrix import _expected, _object_ids, _requests
from ..security.test_large_type_pages import PROJECTOR_PAGES
from .conftest import ARTIFACTS, SMALL

pytestmark = pytest.mark.browser


@pytest.fixture
def small(browser, request):
    """Open 360×640 touch pages, zh-CN (script=False: JavaScript off); page.shot(name) saves a screenshot;
    no script errors allowed."""
    out = ARTIFACTS / request.node.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    contexts, errors = [], []

    def _open(script: bool = True, init: str | None = None):
        context = browser.new_context(viewport=SMALL, device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="zh-CN", java_script_enabled=script)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if init:
            context.add_init_script(init)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and "Failed to load resource" not in msg.text else None)
        page.shot = lambda name, full=True: page.screenshot(path=str(out / f"{name}.png"), full_page=full)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"errors in the page: {errors}"


def log_in(page, base: str, who: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("#identifier", who)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)


def is_large(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('large')")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_text(page) -> list[str]:
    """Every piece of text shown on the page (charts' SVG aside) set in less than 20 px."""
    return page.evaluate("""() => {
        const bad = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
            const el = walk.currentNode.parentElement, text = walk.currentNode.textContent.trim();
            if (!text || el.closest('svg, script, style')) continue;
            const box = el.getBoundingClientRect(), style = getComputedStyle(el);
            if (!box.width || !box.height || style.visibility === 'hidden') continue;
            const size = parseFloat(style.fontSize);
            if (size < 20) bad.push(`${el.tagName}.${el.className} ${size}px «${text.slice(0, 16)}»`);
        }
        return bad;
    }""")


def small_targets(page) -> list[str]:
    """Every button, field and button-like link shown on the page that is less than 48 px high."""
    return page.evaluate("""() => {
        const bad = [];
        for (const el of document.querySelectorAll(
                'button, .btn, select, textarea, summary, label.opt, label.check, '
                + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])')) {
            const box = el.getBoundingClientRect();
            if (!box.width || !box.height || el.closest('[hidden]')) continue;
            const what = `${el.tagName}.${el.className} «${el.textContent.trim().slice(0, 12)}»`;
            if (box.height < 47.5) bad.push(`${what} ${Math.round(box.height)}px`);
        }
        return bad;
    }""")


def body_text_px(page) -> float:
    return page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('main p, main li, main td, main label')).fontSize)")


def readable(page) -> None:
    """The page is in large type, fits the screen, and has no small text or small targets."""
    assert is_large(page)
    assert fits(page), "the page scrolls sideways"
    assert body_text_px(page) >= 20
    assert small_text(page) == []
    assert small_targets(page) == []


def test_the_switch_turns_large_type_on_and_off_in_place(app, world, live_server, small):
    page = small()
    page.goto(f"{live_server}/auth/login")
    assert not is_large(page) and body_text_px(page) == 16
    switch = page.get_by_role("button", name="大字")
    assert switch.is_visible() and switch.bounding_box()["height"] >= 44
    page.evaluate("window.stayed = true")  # gone if the page were loaded again
    page.fill("#identifier", "ma1")
    with page.expect_response("**/auth/large-type") as answer:
        switch.click()
    assert answer.value.json() == {"ok": True, "large": True}
    assert page.evaluate("window.stayed") is True and page.input_value("#identifier") == "ma1", "the page was left"
    readable(page)
    page.shot("01-login-large")
    # Signing in keeps the choice made on the login page, on the account.
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    readable(page)
    with app.app_context():
        assert db.session.get(User, world.user["m_a1"]).large_type is True
    page.evaluate("window.stayed = true")
    with page.expect_response("**/auth/large-type") as answer:
        page.get_by_role("button", name="标准字").click()
    assert answer.value.json() == {"ok": True, "large": False}
    assert not is_large(page) and page.evaluate("window.stayed") is True and body_text_px(page) < 20
    page.get_by_role("button", name="大字").wait_for()
    page.shot("02-home-standard")
    # The server kept it: the page loaded again is in standard type.
    page.reload()
    assert not is_large(page)
    with app.app_context():
        assert db.session.get(User, world.user["m_a1"]).large_type is False


def test_the_switch_works_without_javascript(app, world, live_server, small):
    page = small(script=False)
    log_in(page, live_server, "ma1")
    page.goto(f"{live_server}/practice/")
    page.get_by_role("button", name="大字").click()
    page.wait_for_url(f"{live_server}/practice/")
    readable(page)
    page.get_by_role("button", name="标准字").click()
    page.wait_for_url(f"{live_server}/practice/")
    assert not is_large(page)
    with app.app_context():
        assert db.session.get(User, world.user["m_a1"]).large_type is False


def test_member_and_secretary_pages_in_large_type(app, world, live_server, small):
    with app.app_context():
        for who in ("m_a1", "sec_a1", "org_a"):
            db.session.get(User, world.user[who]).large_type = True
        assignment = db.session.get(Assignment, world.assignment_a)
        other = quizzes.start_attempt(assignment, db.session.get(User, world.user["m_a1b"]))
        quizzes.submit_attempt(other, None, 60)
    page = small()
    log_in(page, live_server, "ma1")
    readable(page)
    page.shot("01-member-home")
    page.goto(f"{live_server}/quiz/{world.assignment_a}")
    page.click("text=开始答题")
    page.wait_for_url("**/quiz/attempts/*")
    page.locator("section.q").first.locator("label.opt").first.click()
    page.wait_for_selector("#q1 .save-state.saved")
    readable(page)
    page.shot("02-quiz")
    page.shot("02-quiz-screen", full=False)
    page.click("#submit-btn")
    page.wait_for_selector("#confirm:not([hidden])")
    readable(page)
    page.shot("03-hand-in-dialog", full=False)
    page.click("#confirm-yes")
    page.wait_for_url("**/review")
    readable(page)
    page.shot("04-review")
    page.click("nav button:has-text('退出')")
    log_in(page, live_server, "seca1")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}/units/{world.org['a1']}")
    readable(page)
    page.shot("05-branch")
    page.click("nav button:has-text('退出')")
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/reports/assignments/{world.assignment_a}")
    readable(page)
    page.shot("06-weak-branches")


@pytest.mark.parametrize("role", ["m_a2", "org_a"])
def test_every_page_fits_a_small_phone_in_large_type(  # noqa: F811 (foreign, shared: imported fixtures)
    app, world, foreign, shared, live_server, small, role
):
    """Every page the account may open (the access matrix's walk, exports aside) in large type: nothing
    scrolls sideways, no text under 20 px, no button or field under 48 px."""
    with app.app_context():
        db.session.get(User, world.user[role]).large_type = True
        db.session.commit()
    fset, page = foreign["branch_a2"], small()
    log_in(page, live_server, world.login[role])
    seen, problems = 0, []
    for endpoint, method, url, query, access in _requests(app, _object_ids(fset, shared)):
        if method != "GET" or endpoint in {"static", *PROJECTOR_PAGES} or 200 not in _expected(role, access, fset, method):
            continue
        address = live_server + url + ("?" + urlencode(query) if query else "")
        if not page.request.get(address).headers.get("content-type", "").startswith("text/html"):
            continue  # a download (spreadsheet, CSV) or JSON (the health check, a paper's saved answers)
        page.goto(address)
        seen += 1
        found = ([] if fits(page) else ["scrolls sideways"]) + small_text(page)[:3] + small_targets(page)[:3]
        if not is_large(page) or found:
            problems.append(f"{endpoint} {url}: {found or 'not in large type'}")
    assert seen >= (15 if role == "m_a2" else 30)
    assert not problems, "\n".join(problems)


# --- 朗读 ---------------------------------------------------------------------------------------------

# speechSynthesis as a phone has it, with the voices given; __setVoices() loads them late, as Chrome does.
SPEECH_STUB = """(() => {
  let voices = %s;
  const listeners = [];
  window.__spoken = [];
  window.__cancels = 0;
  const synth = {
    speaking: false, pending: false, paused: false, onvoiceschanged: null,
    getVoices: () => voices.slice(),
    speak: (u) => window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.name}),
    cancel: () => { window.__cancels += 1; },
    pause() {}, resume() {},
    addEventListener: (type, f) => { if (type === 'voiceschanged') listeners.push(f); },
    removeEventListener() {},
  };
  window.__setVoices = (v) => {
    voices = v;
    listeners.forEach((f) => f(new Event('voiceschanged')));
    if (synth.onvoiceschanged) synth.onvoiceschanged(new Event('voiceschanged'));
  };
  Object.defineProperty(window, 'speechSynthesis', {value: synth, configurable: true});
  window.SpeechSynthesisUtterance = function (text) {
    this.text = text; this.lang = ''; this.voice = null; this.rate = 1;
  };
})();"""
ENGLISH = [{"name": "Google US English", "lang": "en-US"}]
CHINESE = ENGLISH + [{"name": "Google 普通话（中国大陆）", "lang": "zh-CN"}]


def speech(voices) -> str:
    return SPEECH_STUB % json.dumps(voices)


def start_quiz(page, base: str, assignment_id: int) -> None:
    log_in(page, base, "ma1")
    page.goto(f"{base}/quiz/{assignment_id}")
    page.click("text=开始答题")
    page.wait_for_url("**/quiz/attempts/*")


def shown(section) -> list[str]:
    """The stem and options of a question as the page shows them."""
    options = [t.strip() for t in section.locator(".opt span").all_inner_texts()]
    return [section.locator(".stem").inner_text().strip(), *options]


def spoken(page) -> list[dict]:
    return page.evaluate("window.__spoken")


def test_read_aloud_is_hidden_on_a_phone_without_a_chinese_voice(app, world, live_server, small):
    page = small(init=speech(ENGLISH))
    start_quiz(page, live_server, world.assignment_a)
    assert page.locator("[data-speak]").count() == 5
    assert not page.locator("[data-speak]").first.is_visible()
    page.shot("01-no-chinese-voice", full=False)
    # Without speech synthesis at all (WeChat's browser), and with JavaScript off, none shows either.
    without = small(init="delete Window.prototype.speechSynthesis; delete window.speechSynthesis;")
    for other in (without, small(script=False)):
        log_in(other, live_server, "ma1")
        other.goto(page.url)
        assert other.locator("[data-speak]").count() == 5 and not other.locator("[data-speak]").first.is_visible()
    assert without.evaluate("typeof speechSynthesis") == "undefined"


def test_read_aloud_appears_when_a_chinese_voice_loads_late_and_reads_the_question(app, world, live_server, small):
    page = small(init=speech([]))
    start_quiz(page, live_server, world.assignment_a)
    button = page.locator("#q2 [data-speak]")
    assert not button.is_visible()
    page.evaluate(f"window.__setVoices({json.dumps(CHINESE)})")
    assert button.is_visible()
    button.click()
    said = spoken(page)
    assert [s["text"] for s in said] == shown(page.locator("#q2"))
    assert {(s["lang"], s["voice"]) for s in said} == {("zh-CN", "Google 普通话（中国大陆）")}
    assert button.inner_text() == "停止朗读"
    page.shot("01-reading", full=False)
    button.click()
    assert button.inner_text() == "朗读" and page.evaluate("window.__cancels") >= 2
    # Voices gone again (a language pack removed): the buttons hide.
    page.evaluate("window.__setVoices([])")
    assert not button.is_visible()


def test_read_aloud_in_large_type_never_reads_the_key(app, world, live_server, small):
    """An exam that shows each key once the answer is confirmed: the answered question is read as it was
    asked, stem and options, without its verdict, key or explanation."""
    with app.app_context():
        questions = list(db.session.scalars(select(Question).where(Question.kind.in_(["single", "multiple"]))
                                            .order_by(Question.key)))[:3]
        exam = make_assignment(db.session.get(Organisation, world.org["a"]), questions, title="即时反馈测验",
                               show_answers=ShowAnswers.IMMEDIATE)
        db.session.get(User, world.user["m_a1"]).large_type = True
        db.session.commit()
        exam_id, explanations = exam.id, [q.explanation for q in questions]
    page = small(init=speech(CHINESE))
    start_quiz(page, live_server, exam_id)
    first = page.locator("#q1")
    first.locator("label.opt").first.click()
    first.get_by_role("button", name="确定本题").click()
    first.locator(".fb p").first.wait_for()
    assert "正确答案" in first.locator(".fb").inner_text()
    first.get_by_role("button", name="朗读").click()
    said = [s["text"] for s in spoken(page)]
    assert said == shown(first) and len(said) >= 3
    text = "".join(said)
    assert "正确答案" not in text and "回答" not in text
    assert not any(e and e[:12] in text for e in explanations)
    readable(page)
    page.shot("01-large-quiz-reading", full=False)
    # The practice page has the button too.
    page.goto(f"{live_server}/practice/daily")
    page.get_by_role("button", name="朗读").click()
    assert [s["text"] for s in spoken(page)] == shown(page.locator("section.q"))
