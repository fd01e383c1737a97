"""Importing a 5,000-question spreadsheet through the organiser's pages: preview, then 确认导入; then the same
file again (every question unchanged).

  python -m bench bankimport [--questions N] [--postgres]

A scratch database (bench/out/bankimport.sqlite, or with --postgres a scratch PostgreSQL database, dropped
afterwards) with the built-in bank and one committee whose organiser imports. The file is generated: a title
row above a header of other systems' column names (目录, 题型, 试题内容, 正确答案, A…D, 答案解析, 难易程度),
the four kinds with exam-system spellings (单选题（1分）, 多项选择, 是非题, 填空 with （ ） blanks), 60 knowledge
points the bank does not have yet, and one 简答 row in a hundred to skip. Requests go through the Flask test client,
so times include reading the upload (calamine, in its child process), matching, rendering the preview of every
question, and storing; not the network.

Printed: wall time per request, the process's peak RSS (ru_maxrss, from its start) and the spreadsheet child's
(its VmHWM), and the peak of Python allocations during the import (tracemalloc, a second run of the same
requests: it slows them).
Goal (issue 13): preview + confirm under 10 s, peak under 300 MB.
"""

from __future__ import annotations

import io
import json
import random
import resource
import time
import tracemalloc

from . import OUT, ROOT
from .common import bench_app, create_pg_database, drop_pg_database

PASSWORD = "bench-import-2026"


def workbook(n: int, seed: int = 13) -> bytes:
    """A question file as a competition secretary would have it."""
    import xlsxwriter

    rnd = random.Random(seed)
    alphabet = [chr(c) for c in range(0x4E00, 0x9FA5)]

    def words(k: int) -> str:
        return "".join(rnd.choices(alphabet, k=k))

    points = ["入党条件", "预备期", *(f"专题{i:02d}{words(4)}" for i in range(58))]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("题库")
    sheet.write_row(0, 0, ["党章党规知识竞赛题库（基准测试）"])
    sheet.write_row(2, 0, ["目录", "题型", "试题内容", "正确答案", "A", "B", "C", "D", "答案解析", "难易程度"])
    for i in range(n):
        point, kind = points[i % len(points)], i % 4
        stem = f"{words(30)}第{i}题"
        if i % 100 == 99:
            row = [point, "简答题", stem + "？", "略"]
        elif kind == 0:
            row = [point, "单选题（1分）", stem + "（ ）。", "ABCD"[i % 4], *(words(8) for _ in range(4))]
        elif kind == 1:
            row = [point, "多项选择", stem + "（ ）。", "A、C、D", *(words(8) for _ in range(4))]
        elif kind == 2:
            row = [point, "是非题", stem + "。", "√" if i % 3 else "×", "", "", "", ""]
        else:
            row = [point, "填空", stem + "（ ）。", words(3), "", "", "", ""]
        row += [""] * (8 - len(row)) + [words(40), "易中难"[i % 3]]
        sheet.write_row(i + 3, 0, row)
    book.close()
    return buffer.getvalue()


def _setup(url: str):
    """Migrate, load the built-in bank, one committee and its organiser; return (app, organiser's number)."""
    app = bench_app(url)
    app.config["WTF_CSRF_ENABLED"] = False  # the test client posts forms without reading tokens first
    with app.app_context():
        import flask_migrate

        from learnhub.extensions import db, enable_wal
        from learnhub.models import OrgKind, Role, User
        from learnhub.services.bank import question_bank
        from learnhub.services.auth.accounts import HashSettings, hash_password
        from learnhub.services.orgs import create_org, grant

        flask_migrate.upgrade()
        enable_wal(db.engine)
        question_bank.import_dir(ROOT / "questions")
        org = create_org("基准党委", OrgKind.COMMITTEE, None, "bench")
        user = User(member_no="benchorg", name="组织员", org=org, must_change_password=False,
                    password_hash=hash_password(HashSettings.from_config(app.config), PASSWORD))
        db.session.add(user)
        grant(user, org, Role.ORGANISER)
        db.session.commit()
    return app


def _round(client, data: bytes) -> dict:
    """Preview then confirm; the times and what the pages said."""
    started = time.perf_counter()
    preview = client.post("/admin/questions/import", data={"file": (io.BytesIO(data), "竞赛题库.xlsx"), "point": ""},
                          content_type="multipart/form-data")
    previewed = time.perf_counter()
    done = client.post("/admin/questions/import/confirm", follow_redirects=True)
    confirmed = time.perf_counter()
    page = done.get_data(as_text=True)
    flash = page[page.find("导入完成"):][:60].split("<")[0] if "导入完成" in page else "no confirmation"
    return {"preview_s": previewed - started, "confirm_s": confirmed - previewed, "total_s": confirmed - started,
            "preview_status": preview.status_code, "preview_kb": len(preview.data) // 1024, "result": flash}


def _child_peak_mb(data: bytes) -> float:
    """The spreadsheet child's own peak RSS on this file, as it reports it (VmHWM)."""
    import subprocess
    import sys

    from learnhub.services.sheets import tables

    args = [sys.executable, "-I", str(tables._CHILD), ".xlsx", str(tables.MAX_ROWS + tables.HEADER_ROWS),
            str(tables.MAX_COLUMNS), str(tables.MAX_CELLS), str(tables.CHILD_MEMORY_MB), str(tables.CHILD_CPU_SECONDS)]
    done = subprocess.run(args, input=data, capture_output=True, check=True)
    return json.loads(done.stdout)["peak_kb"] / 1024


def run(questions: int, postgres: bool) -> dict:
    data = workbook(questions)
    out: dict = {"questions": questions, "file_kb": len(data) // 1024, "database": "postgresql" if postgres else "sqlite"}
    for traced in (False, True):
        name = f"learnhub_bankimport_{int(time.time())}"
        if postgres:
            url = create_pg_database(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-writer.lock"):
                (OUT / f"bankimport.sqlite{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{OUT / 'bankimport.sqlite'}"
        try:
            app = _setup(url)
            client = app.test_client()
            client.post("/auth/login", data={"identifier": "benchorg", "password": PASSWORD})
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if traced:
                tracemalloc.start()
            first, again = _round(client, data), _round(client, data)
            if traced:
                out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            else:
                out.update(first=first, again=again, rss_before_mb=rss_before,
                           rss_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                           child_rss_peak_mb=_child_peak_mb(data))
            from learnhub.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
                app.extensions["learnhub.autocommit_engine"].dispose()
        finally:
            if postgres:
                drop_pg_database(name)
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return out
