"""Stored XSS and template injection: hostile text in names, questions, study notes and reports renders as
inert text on every page that shows it, and as plain (non-formula) cells in every export."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import openpyxl
import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, ExemptionReason, Material, Organisation, PracticeMode, Question, User
from learnhub.services.exam import exemptions
from learnhub.services.study import practice
from learnhub.services.bank import question_reports

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
JS_LINK = "javascript:alert(1)"
TEMPLATE = "tpl{{7*7}}end"  # evaluated by a template engine it would read "tpl49end"
# What an escaped payload looks like in the page source (Jinja escapes < > & " ').
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")

# Spreadsheet payloads: Excel runs a cell that starts with = + - @ as a formula.
FORMULAS = {
    "member": '=HYPERLINK("http://evil.example","点我")',
    "member2": "+SUM(1+1)*cmd|' /C calc'!A0",
    "member_no": "-2-3",
    "org": "@SUM(1+1)",
    "stem": "=1+2 这道题的题干",
}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


class _Scanner(HTMLParser):
    """Collect anything executable: foreign scripts, event handlers, javascript: URLs, embedded objects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._json_script = False
        self._json = ""

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            bare = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name in URL_ATTRS and bare.startswith(("javascript:", "vbscript:", "data:text")):
                self.problems.append(f"<{tag} {name}={value!r}> script URL")
        if tag == "script":
            if values.get("type") == "application/json" and "src" not in values:
                self._json_script, self._json = True, ""
            elif not (values.get("src") or "").startswith("/static/"):
                self.problems.append(f"<script {values}> not one of the app's own static scripts")
        if tag in ("iframe", "object", "embed", "base", "frame") or (tag == "meta" and "http-equiv" in values):
            self.problems.append(f"<{tag}> element")
        if tag == "img" and not (values.get("src") or "").startswith(("/static/", "data:image/")):
            self.problems.append(f"<img src={values.get('src')!r}>")

    def handle_data(self, data):
        if self._json_script:
            self._json += data

    def handle_endtag(self, tag):
        if tag == "script" and self._json_script:
            self._json_script = False
            try:
                json.loads(self._json)
            except ValueError:
                self.problems.append("a JSON <script> block that is not valid JSON (was it broken out of?)")


def executable_markup(html: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    problems = scanner.problems
    lowered = html.lower()
    if SCRIPT in lowered or "<img src=x" in lowered:
        problems.append("a payload appears unescaped in the page source")
    if "tpl49end" in html:
        problems.append("{{7*7}} was evaluated by a template engine")
    return problems


@pytest.fixture
def poisoned(app, world, shared):
    """Put the payloads into a member, an organisation, a question, a material, an assignment and a report."""
    with app.app_context():
        m_a1 = db.session.get(User, world.user["m_a1"])
        m_a1.name = f"{SCRIPT}{TEMPLATE}"
        db.session.get(User, world.user["m_a1b"]).name = f"{ATTR}乙"
        db.session.get(User, world.user["m_a2"]).name = FORMULAS["member"]
        m_a3 = db.session.get(User, world.user["m_a3"])
        m_a3.name, m_a3.member_no = FORMULAS["member2"], FORMULAS["member_no"]
        db.session.get(Organisation, world.org["a1"]).name = f"{SCRIPT}{TEMPLATE}"
        db.session.get(Organisation, world.org["a2"]).name = f"{ATTR}{JS_LINK}"
        db.session.get(Organisation, world.org["a3"]).name = FORMULAS["org"]
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.title = f"{SCRIPT}{ATTR}{TEMPLATE}"
        paper = [aq.question for aq in assignment.questions]
        question = next(q for q in paper if q.kind.value == "single")
        question.stem = f"{SCRIPT}{ATTR}{TEMPLATE} {JS_LINK}"
        question.options = [SCRIPT, ATTR, TEMPLATE, JS_LINK]
        question.explanation = f"{SCRIPT}{ATTR}{TEMPLATE} [x]({JS_LINK})"
        next(q for q in paper if q is not question).stem = FORMULAS["stem"]
        material = db.session.scalar(select(Material).filter_by(slug=shared.material))
        material.title = f"{SCRIPT}{TEMPLATE}"
        material.body_md = (
            f"# 标题\n\n{SCRIPT}\n\n{ATTR}\n\n[点我]({JS_LINK})\n\n<a href=\"{JS_LINK}\">链接</a>\n\n"
            f"[x](JaVaScRiPt:alert(1)) [y](&#106;avascript:alert(1))\n\n![img](x \"onerror=alert(1)\")\n\n{TEMPLATE}\n"
        )
        db.session.commit()
        question_reports.file_report(m_a1, question, f"{SCRIPT}{ATTR}{TEMPLATE}")
        exemptions.exempt(assignment, db.session.get(User, world.user["m_a1b"]), ExemptionReason.OTHER,
                          f"{ATTR}{TEMPLATE}", db.session.get(User, world.user["sec_a1"]))
        return {"question": question.id, "assignment": assignment.id, "slug": material.slug}


def _scan(client, url: str, must_show: bool = True, **kwargs) -> list[str]:
    response = client.open(url, **kwargs)
    if response.status_code == 302 and kwargs.get("method") != "POST":
        response = client.get(response.location)
    html = response.get_data(as_text=True)
    problems = [f"{url}: {p}" for p in executable_markup(html)]
    if response.status_code != 200:
        problems.append(f"{url}: answered {response.status_code}")
    elif must_show and not any(e in html for e in ESCAPED):
        problems.append(f"{url}: the page does not show the payload at all (the test would prove nothing)")
    return problems


def _member_pages(client, world, poisoned, shared) -> tuple[list[str], int]:
    a, q = poisoned["assignment"], poisoned["question"]
    problems = []
    for url in ("/", f"/quiz/{a}", "/study/", f"/study/{poisoned['slug']}", f"/quiz/questions/{q}/report"):
        problems += _scan(client, url)
    started = client.post(f"/quiz/{a}/start")
    attempt_id = int(re.search(r"/attempts/(\d+)", started.location).group(1))
    problems += _scan(client, f"/quiz/attempts/{attempt_id}")  # the paper
    client.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": "1,2,3,4,5", "q1": "0"})
    problems += _scan(client, f"/quiz/attempts/{attempt_id}/review")
    with client.application.app_context():  # the chapter page draws at random: serve the poisoned question itself
        member, question = db.session.get(User, world.user["m_a1"]), db.session.get(Question, q)
        served = practice.serve(member, question, PracticeMode.CHAPTER).id
    answered = client.post("/practice/answer", data={"served": served, "a": "1"})
    problems += _scan(client, answered.location)  # instant feedback: stem, key, explanation
    for url in ("/practice/", "/practice/daily", f"/practice/chapter/{shared.part}"):
        problems += _scan(client, url, must_show=False)
    return problems, attempt_id


def test_member_pages_show_payloads_as_text(app, world, poisoned, shared, login):
    problems, _ = _member_pages(login(world.login["m_a1"]), world, poisoned, shared)
    assert not problems, "\n".join(problems)


def test_staff_pages_show_payloads_as_text(app, world, poisoned, shared, login):
    _, attempt_id = _member_pages(login(world.login["m_a1"]), world, poisoned, shared)
    a, q, a1, m_a1 = poisoned["assignment"], poisoned["question"], world.org["a1"], world.user["m_a1"]
    problems = []
    for who in ("sec_a1", "org_a"):
        c = login(world.login[who])
        urls = [
            "/reports/", f"/reports/assignments/{a}", f"/reports/assignments/{a}/units/{a1}",
            f"/reports/assignments/{a}/members/{m_a1}", f"/reports/assignments/{a}/members/{world.user['m_a1b']}",
            f"/reports/attempts/{attempt_id}", f"/reports/assignments/{a}/items",
            "/admin/members", f"/admin/members?q={SCRIPT}", f"/admin/members/{m_a1}/edit", "/admin/members/new",
            "/admin/assignments/new",
        ]
        if who == "org_a":
            urls += ["/admin/questions", f"/admin/questions?q={SCRIPT}", f"/admin/questions/{q}"]
            urls += ["/admin/question-reports"]
        for url in urls:
            problems += _scan(c, url)
    assert not problems, "\n".join(problems)


def test_reflected_input_is_escaped(world, login):
    """Query strings and unknown paths that a page echoes back: search boxes, error pages, the login form."""
    c = login(world.login["org_a"])
    problems = []
    for url in (f"/admin/questions?q={ATTR}", f"/admin/members?q={ATTR}", f"/study/{SCRIPT}", f"/nope/{ATTR}"):
        response = c.get(url)
        problems += [f"{url}: {p}" for p in executable_markup(response.get_data(as_text=True))]
    anonymous = c.application.test_client()
    for url in (f"/auth/login?next={JS_LINK}", f"/auth/login?next=%22%3E{SCRIPT}"):
        problems += [f"{url}: {p}" for p in executable_markup(anonymous.get(url).get_data(as_text=True))]
    assert not problems, "\n".join(problems)


def _workbook_problems(data: bytes, name: str) -> tuple[list[str], set[str]]:
    book = openpyxl.load_workbook(io.BytesIO(data))  # not read-only: keeps each cell's data type
    problems, texts = [], set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{name} {ws.title}!{cell.coordinate}"
                if cell.data_type == "f":
                    problems.append(f"{where} is a formula: {cell.value!r}")
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                    if cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                        problems.append(f"{where} starts with a formula character: {cell.value!r}")
    return problems, texts


def test_excel_exports_hold_no_formulas(app, world, poisoned, login):
    a, a1 = poisoned["assignment"], world.org["a1"]
    login(world.login["m_a2"]).post(f"/quiz/{a}/start")  # so the stem shows in the item analysis too
    c = login(world.login["org_a"])
    problems, texts = [], set()
    for url in (f"/reports/assignments/{a}/export.xlsx", f"/reports/assignments/{a}/units/{a1}/export.xlsx",
                f"/reports/assignments/{a}/units/{world.org['a3']}/export.xlsx"):
        response = c.get(url)
        assert response.status_code == 200, url
        found, seen = _workbook_problems(response.data, url)
        problems += found
        texts |= seen
    assert not problems, "\n".join(problems)
    for key in ("member", "member2", "member_no", "org"):
        assert any(t == "'" + FORMULAS[key] or t.endswith("'" + FORMULAS[key]) for t in texts), (
            f"{FORMULAS[key]!r} ({key}) is missing from the exports or not neutralised with a leading '"
        )


def test_csv_exports_hold_no_formulas(app, world, poisoned, login):
    a, a1 = poisoned["assignment"], world.org["a1"]
    c = login(world.login["org_a"])
    problems, texts = [], set()
    for url in (f"/reports/assignments/{a}/export.csv", f"/reports/assignments/{a}/units/{a1}/export.csv"):
        response = c.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True).lstrip("\ufeff")
        for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            for value in row:
                texts.add(value)
                if value.startswith(("=", "+", "-", "@", "\t", "\r")):
                    problems.append(f"{url} line {line_no}: {value!r} starts with a formula character")
    assert not problems, "\n".join(problems)
    assert "'" + FORMULAS["member_no"] in texts
