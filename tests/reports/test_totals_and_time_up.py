"""Issue 14, deliver 4: a committee's totals are the sum of the rows it shows and of what its exports
list (members directly in the 党委, its organiser and administrator, get a 党委直属 row); and a paper
whose time ran out unseen is handed in by the clock and scored on the branch page, the committee report
and every export, never left as 答题中."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, utcnow

from ..quiz.helpers import attempt_id_from, form_fields, paper, shown_answer

TIME_UP = "时间已到，已自动交卷"


def hand_in(app, client, assignment_id: int, right: bool = True) -> None:
    attempt_id = attempt_id_from(client.post(f"/quiz/{assignment_id}/start").location)
    answers = {pos: shown_answer(q, perm, right) for pos, q, perm in paper(app, attempt_id)}
    client.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers))


def shown_rows(html: str) -> list[tuple[str, int]]:
    """(organisation cell text, 应完成) for each row of the page's 各级组织 table."""
    table = html.split("各级组织", 1)[1].split("</table>", 1)[0]
    rows = []
    for cells in re.findall(r"<tr><td[^>]*>(.*?)</td>\s*<td class=\"num\">(\d+)</td>", table, re.S):
        rows.append((re.sub(r"<[^>]+>|\s+", "", cells[0]), int(cells[1])))
    return rows


def test_committee_total_is_the_sum_of_its_rows_and_of_its_exports(app, world, login):
    """The organiser and the administrator belong to 党委A itself: they count, and are shown."""
    hand_in(app, login(world.login["m_a1"]), world.assignment_a)
    hand_in(app, login(world.login["org_a"]), world.assignment_a, right=False)  # staff may sit it too
    organiser = login(world.login["org_a"])
    url = f"/reports/assignments/{world.assignment_a}"
    rows = shown_rows(organiser.get(url).get_data(as_text=True))
    (top_name, total), shown = rows[0], rows[1:]
    assert top_name == "党委A" and total == 8
    assert [name for name, _ in shown][0].startswith("党委直属") and shown[0][1] == 2
    assert total == sum(n for _, n in shown)
    # The workbook's summary says the same, and lists as many members as the page counts.
    book = openpyxl.load_workbook(io.BytesIO(organiser.get(f"{url}/export.xlsx").data))
    summary = [(r[0].strip("　"), r[1]) for r in book["汇总"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert summary[0] == ("党委A", total) and ("党委直属", 2) in summary
    members = sum(sheet.max_row - 4 for sheet in book.worksheets if sheet.title not in ("汇总", "知识点掌握", "未完成名单", "题目分析"))
    assert members == total
    lines = list(csv.reader(io.StringIO(organiser.get(f"{url}/export.csv").get_data(as_text=True))))[3:]
    assert len(lines) == total
    # The organiser's own failed paper counts in the 党委直属 row, not in any branch.
    direct = next(n for n in shown if n[0].startswith("党委直属"))
    assert direct[1] == 2


def _time_runs_out(app, world, login) -> int:
    """m_a1 starts a 10-minute paper, saves one right answer of five, and leaves; time and grace pass."""
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).time_limit_minutes = 10
        db.session.commit()
    client = login(world.login["m_a1"])
    attempt_id = attempt_id_from(client.post(f"/quiz/{world.assignment_a}/start").location)
    pos, q, perm = paper(app, attempt_id)[0]
    saved = client.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": 1})
    assert saved.get_json()["ok"]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.started_at -= timedelta(minutes=20)
        attempt.deadline = utcnow() - timedelta(seconds=app.config["ATTEMPT_GRACE_SECONDS"] + 5)
        db.session.commit()
    return attempt_id


def _closed_as_the_job_would(app, attempt_id: int) -> None:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.is_finished and attempt.finished_at == attempt.deadline and attempt.score == 20


def test_branch_page_shows_a_time_up_paper_as_handed_in_and_scored(app, world, login):
    attempt_id = _time_runs_out(app, world, login)
    page = login(world.login["sec_a1"]).get(
        f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}").get_data(as_text=True)
    assert "答题中" not in page and TIME_UP in page
    row = re.search(r"<tr><td><a[^>]*>党员甲一</a></td>(.*?)</tr>", page, re.S).group(1)
    assert "不合格" in row and TIME_UP in row and ">20<" in row
    unfinished = page.split('id="unfinished"', 1)[1].split("</p>", 1)[0]
    assert "党员甲一<" not in unfinished  # handed in: no longer among those to remind
    _closed_as_the_job_would(app, attempt_id)


def test_committee_report_counts_a_time_up_paper_as_finished(app, world, login):
    attempt_id = _time_runs_out(app, world, login)
    page = login(world.login["org_a"]).get(
        f"/reports/assignments/{world.assignment_a}?org={world.org['ga']}").get_data(as_text=True)
    row = re.search(r"第一支部</a>.*?</tr>", page, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[:4] == ["3", "33.3%", "0.0%", "20"]
    _closed_as_the_job_would(app, attempt_id)


@pytest.mark.parametrize("export", ["units/{a1}/export.xlsx", "units/{a1}/export.csv", "export.xlsx", "export.csv"])
def test_exports_show_a_time_up_paper_as_handed_in_by_the_clock(app, world, login, export):
    attempt_id = _time_runs_out(app, world, login)
    url = f"/reports/assignments/{world.assignment_a}/" + export.format(a1=world.org["a1"])
    data = login(world.login["org_a"]).get(url).data
    if url.endswith(".csv"):
        lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        book = openpyxl.load_workbook(io.BytesIO(data))
        lines = [[str(v) if v is not None else "" for v in row] for ws in book.worksheets
                 for row in ws.iter_rows(values_only=True)]
    mine = [line for line in lines if "党员甲一" in line]
    assert mine and all("答题中" not in cell for line in mine for cell in line)
    row = next(line for line in mine if len(line) > 6)
    assert f"已完成（{TIME_UP}）" in row and row[row.index(f"已完成（{TIME_UP}）") + 1] in ("20", "20.0")
    _closed_as_the_job_would(app, attempt_id)
