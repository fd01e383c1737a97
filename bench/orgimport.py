"""Importing a city's organisation tree and its roster: time and peak memory, on SQLite and PostgreSQL.

  python -m bench orgimport [--branches 2000] [--members 100000] [--no-postgres]

A fresh database per backend (schema by the migrations): first an organisation list of `--branches`
党支部 under 20 district committees of 5 党总支 each (rows shuffled, parents named by code) is imported
as `flask orgs import` does, then imported again (the idempotent re-import), then a roster of
`--members` members spread over the branches as `flask members import` does (one shared first-password
hash). Each import runs in a process of its own, and its peak is that process's high-water mark
(VmHWM: the interpreter and the app included). The spreadsheet itself is parsed by calamine in a child
process (services/sheets/tables.py); its peak is measured apart, by running the same child from a small
wrapper (a child's ru_maxrss would otherwise include the RSS of the process it was forked from).
Goal (issue 13): each import under 10 s and 300 MB.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import resource
import time

from . import OUT
from .common import create_pg_database, drop_pg_database

GOAL_S, GOAL_MB = 10.0, 300.0
DISTRICTS, GENERALS = 20, 5  # district committees, and 党总支 in each


def org_rows(branches: int, seed: int = 2026) -> list[list[str]]:
    """The organisation list: a city committee, its districts, their 党总支 and the branches, shuffled."""
    rows = [["某某市委", "C", "党委", ""]]
    generals = []
    for d in range(DISTRICTS):
        rows.append([f"第{d + 1}区委", f"C{d}", "党委", "C"])
        for g in range(GENERALS):
            code = f"C{d}-{g}"
            rows.append([f"第{d + 1}区第{g + 1}党总支", code, "党总支", f"C{d}"])
            generals.append(code)
    for b in range(branches):
        parent = generals[b % len(generals)]
        rows.append([f"第{b // len(generals) + 1}党支部", f"{parent}-{b}", "党支部", parent])
    random.Random(seed).shuffle(rows)
    return rows


def branch_codes(branches: int) -> list[str]:
    generals = [f"C{d}-{g}" for d in range(DISTRICTS) for g in range(GENERALS)]
    return [f"{generals[b % len(generals)]}-{b}" for b in range(branches)]


def roster_rows(members: int, branches: int, seed: int = 2026) -> list[list[str]]:
    """A roster: name, member number, phone, branch (by code: branch names repeat across 党总支), category."""
    rnd = random.Random(seed)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    codes = branch_codes(branches)
    return [[rnd.choice(surnames) + rnd.choice(given) + rnd.choice(given), f"M{i:07d}", f"139{i:08d}",
             codes[i % len(codes)], "预备" if i % 17 == 0 else "正式"] for i in range(members)]


def workbook(header: list[str], rows: list[list[str]]) -> bytes:
    """An .xlsx as a committee would send it (a title row above the header), written by XlsxWriter."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("名单")
    sheet.write_row(0, 0, ["导入名单（基准测试）"])
    sheet.write_row(1, 0, header)
    for r, row in enumerate(rows, start=2):
        sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (the spreadsheet reader)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _hwm_mb() -> float:
    """This process's peak resident memory since it started (its own image, not the parent's)."""
    for line in open("/proc/self/status", encoding="ascii"):  # noqa: SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_WRAPPER = """
import resource, subprocess, sys
with open(sys.argv[1], "rb") as stdin:
    subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def reader_peak_mb(path: str, max_rows: int, budget: int) -> float:
    """Peak RSS of the spreadsheet reader's child process on this file (run as tables.py runs it)."""
    import subprocess
    import sys

    from learnhub.services.sheets import tables

    args = [sys.executable, "-I", str(tables._CHILD), ".xlsx", str(max_rows + tables.HEADER_ROWS),
            str(tables.MAX_COLUMNS), str(tables.MAX_CELLS * budget), str(tables.CHILD_MEMORY_MB * budget),
            str(tables.CHILD_CPU_SECONDS * budget)]
    out = subprocess.run([sys.executable, "-I", "-c", _WRAPPER, path, *args], capture_output=True, check=True, text=True)
    return int(out.stdout.strip()) / 1024


def _run(kind: str, url: str, path: str, queue) -> None:
    """In a process of its own: read the file and import it; report time, counts and peak memory."""
    from sqlalchemy import select

    from learnhub.extensions import db
    from learnhub.models import Organisation
    from learnhub.services.orgs import members
    from learnhub.services.auth.accounts import HashSettings
    from learnhub.services.orgs import Scope
    from learnhub.services.orgs import importing as org_import
    from learnhub.services.orgs import storing as org_storing

    from .common import bench_app

    app = bench_app(url)
    data = open(path, "rb").read()  # noqa: SIM115
    with app.app_context():
        db.session.execute(select(Organisation.id).limit(1)).all()  # connect before timing
        start_mb = _hwm_mb()
        started, cpu = time.perf_counter(), _cpu()
        if kind == "members":
            top = db.session.scalar(select(Organisation).filter_by(code="C"))
            rows = members.read_file("名单.xlsx", data, max_rows=members.CLI_MAX_ROWS, budget=members.CLI_BUDGET)
            read_s = time.perf_counter() - started
            result = members.apply(Scope(user=None, roots=[top], acts_as_organiser=True), rows, "init1234",
                                   HashSettings.from_config(app.config))
            summary = f"{result.members:,} members"
        else:
            records = org_import.read_file("组织.xlsx", data)
            read_s = time.perf_counter() - started
            result = org_storing.apply(Scope(user=None, is_admin=True), records)
            summary = f"{result.created:,} created, {result.updated} updated, {result.unchanged:,} unchanged"
        total, cpu = time.perf_counter() - started, _cpu() - cpu
    queue.put({"total_s": total, "cpu_s": cpu, "read_s": read_s, "summary": summary, "start_mb": start_mb, "peak_mb": _hwm_mb(),
               "load": os.getloadavg()[0]})


def measure(kind: str, url: str, path: str) -> dict:
    """Run one import in a fresh process (spawned: nothing inherited from this one's memory)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_run, args=(kind, url, path, queue))
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result


def _migrate(url: str) -> None:
    import flask_migrate

    from learnhub.extensions import db

    from .common import bench_app

    app = bench_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()


def backend(url: str, org_file: str, roster_file: str) -> dict:
    from learnhub.services.orgs import members
    from learnhub.services.sheets import tables

    _migrate(url)
    out = {"orgs": measure("orgs", url, org_file), "orgs again": measure("orgs", url, org_file),
           "members": measure("members", url, roster_file)}
    org_reader = reader_peak_mb(org_file, tables.MAX_ROWS, 1)
    out["orgs"]["reader_mb"] = out["orgs again"]["reader_mb"] = org_reader
    out["members"]["reader_mb"] = reader_peak_mb(roster_file, members.CLI_MAX_ROWS, members.CLI_BUDGET)
    return out


def _line(label: str, figures: dict) -> str:
    ok = figures["total_s"] < GOAL_S and figures["peak_mb"] < GOAL_MB and figures["reader_mb"] < GOAL_MB
    return (f"{'✓' if ok else '✗'} {label:22} {figures['total_s']:6.2f} s (reading {figures['read_s']:.2f} s; "
            f"CPU {figures['cpu_s']:.2f} s)  "
            f"peak {figures['peak_mb']:.0f} MB (at start {figures['start_mb']:.0f}), reader {figures['reader_mb']:.0f} MB"
            f"  {figures['summary']}; load average {figures['load']:.1f}")


def run(branches: int, members: int, postgres: bool = True) -> dict:
    """Build the two files, import them into SQLite and PostgreSQL; print a line per import."""
    OUT.mkdir(parents=True, exist_ok=True)
    org_file, roster_file = OUT / "orgimport-orgs.xlsx", OUT / "orgimport-roster.xlsx"
    org_file.write_bytes(workbook(["组织名称", "组织编码", "组织类型", "上级组织"], org_rows(branches)))
    roster_file.write_bytes(workbook(["姓名", "党员编号", "手机号", "所在支部", "党员类别"], roster_rows(members, branches)))
    print(f"organisation file: {os.path.getsize(org_file) / 1024:.0f} KB; roster: {os.path.getsize(roster_file) / 2**20:.1f} MB",
          flush=True)
    out = {}
    sqlite_file = OUT / "orgimport.sqlite"
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        (OUT / f"orgimport.sqlite{suffix}").unlink(missing_ok=True)
    targets = [("sqlite", f"sqlite:///{sqlite_file}")]
    name = f"learnhub_orgimport_{os.getpid()}"
    if postgres:
        targets.append(("postgresql", create_pg_database(name)))
    try:
        for label, url in targets:
            out[label] = backend(url, str(org_file), str(roster_file))
            for step, figures in out[label].items():
                print(_line(f"{label} {step}", figures), flush=True)
    finally:
        if postgres:
            drop_pg_database(name)
    return out
