"""Reports read on a 360×640 phone (issue 14, item 6): knowledge-point names whole without hovering, the
latest month of a trend in view first, targets in the branch's score table a thumb can hit, list cards that
keep their padding. Screenshots of each page go under test-results/browser/<test>/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, PointLevel
from learnhub.services.reports import mastery

from ..reports.test_weak import RIGHT, take
from .conftest import SMALL
from .test_phone_flows import log_in

pytestmark = pytest.mark.browser

# Two names that share their first six characters: cut to six, both read 申请入党的… (as the issue found).
LONG_NAMES = {"入党条件": "申请入党的条件和基本标准", "预备期": "申请入党的人经过预备期"}


@pytest.fixture
def known(app, world, live_server, monkeypatch):
    """The weak-branch world of tests/reports/test_weak.py, its two points renamed to long look-alikes (after
    the live server has imported the study notes, which name the points)."""
    monkeypatch.setattr(mastery, "MIN_MEMBERS", 1)
    monkeypatch.setattr(mastery, "MIN_ANSWERS", 1)
    for key, right in RIGHT.items():
        take(app, world, key, right)
    with app.app_context():
        for point in db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.POINT)):
            point.name = LONG_NAMES.get(point.name, point.name)
        db.session.commit()
    return world


@pytest.fixture
def small(phone):
    """The browser fixture's page, at 360×640."""
    phone.set_viewport_size(SMALL)
    return phone


def box(locator) -> dict:
    return locator.evaluate("el => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height, right: r.right}; }")


def test_heat_map_names_every_point_in_full(app, known, live_server, small):
    page = small
    log_in(page, live_server, "orga")
    page.goto(f"{live_server}/reports/assignments/{known.assignment_a}")
    heads = page.locator("table.heat thead th")
    names = [heads.nth(i).evaluate("el => el.firstChild.textContent") for i in range(1, heads.count())]
    assert sorted(names) == sorted(LONG_NAMES.values())
    # Beneath each name, where it sits: the subject, the part and (the 党章's) article.
    wheres = [heads.nth(i).locator(".where").inner_text() for i in range(1, heads.count())]
    assert all(w.startswith("党章 · 第一章 党员 · 第") for w in wheres)
    for i in range(1, heads.count()):
        # Drawn whole (wrapped), not clipped: no hover is needed to read it.
        assert heads.nth(i).evaluate("el => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight")
        assert heads.nth(i).get_attribute("title") is None
    # The completion bars name each branch in full, in text as large as the page's.
    bars = page.locator(".bars li .name")
    assert "机关党总支" in bars.all_inner_texts()
    assert bars.first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 14
    page.locator("table.heat").scroll_into_view_if_needed()
    page.shot("01-weak-branch-report")


def test_trends_show_the_latest_month_first(app, known, live_server, small):
    page = small
    log_in(page, live_server, "orga")
    for url in ("/reports/trends", f"/reports/trends?unit={known.org['a1']}"):
        page.goto(f"{live_server}{url}")
        months = page.locator("table.heat thead th").all_inner_texts()[1:]
        assert months[0] == max(months) and months == sorted(months, reverse=True)
        first = page.locator("table.heat tbody tr").first.locator("td").nth(1)
        assert first.inner_text() != "—"  # this month's answers (the world's papers were handed in today)
        assert box(first)["right"] <= SMALL["width"], "the latest month is off-screen"
    page.shot("01-trends-of-a-branch")


def test_branch_score_table_links_are_thumb_sized(app, known, live_server, small):
    page = small
    log_in(page, live_server, "seca1")
    page.goto(f"{live_server}/reports/assignments/{known.assignment_a}/units/{known.org['a1']}")
    links = page.locator(".table-wrap table a")
    assert links.count() >= 4  # three names and at least one score
    for i in range(links.count()):
        size = box(links.nth(i))
        assert size["h"] >= 43.5 and size["w"] >= 43.5, f"{links.nth(i).inner_text()} is {size['w']:.0f}×{size['h']:.0f} px"
    for button in page.locator("main .btn").all():
        if button.is_visible():
            assert box(button)["h"] >= 44, f"{button.inner_text()} is lower than 44 px"
    page.shot("01-branch-page")


def test_list_cards_keep_their_padding(app, known, live_server, small):
    page = small
    log_in(page, live_server, "ma1")
    card = page.locator("ul.list.card").first
    text = card.locator("li").first
    assert box(text)["x"] - box(card)["x"] >= 12, "the list's text touches the card's border"
    page.shot("01-member-home")
