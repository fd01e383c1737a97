"""The one table `python -m bench` prints, the machine it ran on, and bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import loadtable
from .load import GOALS as LOAD_GOALS
from .reports import GOALS as REPORT_GOALS

RESULTS = Path(__file__).parent / "RESULTS.md"
BACKENDS = ("sqlite", "postgresql")


# ---------------------------------------------------------------- the machine


def machine() -> dict:
    """nproc, memory, CPU model, load, and the versions that matter."""
    return {
        "nproc": os.cpu_count(), "memory_gib": _meminfo_gib(), "cpu": _cpu_model(), "kernel": platform.release(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "postgresql": _pg_version(),
        "wrk": _wrk_version(), "nginx": _nginx_version(), "granian": _package("granian"), "sqlalchemy": _package("SQLAlchemy"),
        "argon2_ms": _argon2_ms(),
    }


def _meminfo_gib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _pg_version() -> str:
    try:
        from .common import pg_admin

        with pg_admin() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # no server: the PostgreSQL half is skipped anyway
        return "not reachable"


def _wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).split()[1]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not installed"


def _nginx_version() -> str:
    try:
        out = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=10)
        return (out.stderr or out.stdout).strip().split("/", 1)[1]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not installed"


def _argon2_ms() -> float:
    """One password check with the production parameters, in ms (best of 5): it bounds logins per
    second, and tells PyPI's portable wheel (~17 ms here) from the AVX2 build `make install` makes (~7 ms)."""
    from argon2 import PasswordHasher

    from config import Config

    hasher = PasswordHasher(time_cost=Config.ARGON2_TIME_COST, memory_cost=Config.ARGON2_MEMORY_COST,
                            parallelism=Config.ARGON2_PARALLELISM)
    stored = hasher.hash("bench")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        hasher.verify(stored, "bench")
        times.append(1000 * (time.perf_counter() - start))
    return round(min(times), 1)


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def describe(m: dict) -> str:
    """One line about the machine."""
    return (f"{m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, Linux {m['kernel']}; Python {m['python']}, "
            f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}, SQLAlchemy {m['sqlalchemy']}, granian {m.get('granian', '?')}, "
            f"argon2id check {m.get('argon2_ms', '?')} ms, "
            f"wrk {m['wrk']}, nginx {m.get('nginx', '?')}")


# ---------------------------------------------------------------- cells


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def _seconds(m: dict | None, goal: float | None = None) -> str:
    if not m or m.get("seconds") is None:
        return "n/a" if not m else f"failed ({m.get('detail', '')[:60]})"
    s = m["seconds"]
    text = f"{s * 1000:,.0f} ms" if s < 10 else f"{s:,.1f} s"
    return text + _mark(None if goal is None else s < goal)


def _export_memory(m: dict | None) -> str:
    if not m or m.get("peak_mb") is None:
        return "n/a"
    return f"{m['peak_mb']:,.0f} MB (at start {m['baseline_mb']:,.0f})" + _mark(m["peak_mb"] < REPORT_GOALS["export_mb"])


def _weight(m: dict | None, part: str) -> str:
    if not m or part not in m["parts"]:
        return "n/a"
    raw, sent = m["parts"][part]
    ok = sent / 1024 < LOAD_GOALS["quiz_page_kb"] if part == "total" else None
    return f"{sent / 1024:.1f} KB sent ({raw / 1024:.1f} KB uncompressed)" + _mark(ok)


# ---------------------------------------------------------------- the table


def table(results: dict) -> str:
    """One Markdown table: a row per measure, a column per database."""
    r = {b: results.get(b, {}) for b in BACKENDS}
    gen = {b: r[b].get("generate") for b in BACKENDS}
    rep = {b: r[b].get("reports") or {} for b in BACKENDS}
    load = {b: r[b].get("load") or {} for b in BACKENDS}
    any_rep = rep["sqlite"] or rep["postgresql"]
    branch = any_rep.get("branch_members", "?")
    members = next((g["members"] for g in gen.values() if g), 0)
    responses = next((g["counts"].get("response", 0) for g in gen.values() if g), 0)
    rows = [
        (f"generate {members:,} members, {responses:,} responses", "a few minutes",
         {b: f"{gen[b]['seconds']:.0f} s" if gen[b] else "n/a" for b in BACKENDS}),
        ("`reports.assignment_report()`, organiser, whole tree", "< 1 s",
         {b: _seconds(rep[b].get("report_service"), REPORT_GOALS["report_s"]) for b in BACKENDS}),
        ("report page GET (whole view), organiser", "< 1 s",
         {b: _seconds(rep[b].get("report_page"), REPORT_GOALS["report_s"]) for b in BACKENDS}),
        (f"`reports.member_rows()`, biggest branch ({branch} members)", "< 100 ms",
         {b: _seconds(rep[b].get("branch_service"), REPORT_GOALS["branch_s"]) for b in BACKENDS}),
        ("branch page GET (whole view), its secretary", "< 100 ms",
         {b: _seconds(rep[b].get("branch_page"), REPORT_GOALS["branch_s"]) for b in BACKENDS}),
        (f"rollup Excel export GET, all {members:,} members", "< 15 s",
         {b: _seconds(rep[b].get("export"), REPORT_GOALS["export_s"]) for b in BACKENDS}),
        ("rollup export peak RSS", "< 200 MB", {b: _export_memory(rep[b].get("export")) for b in BACKENDS}),
    ]
    rows += loadtable.rows(load, results.get("baselines"))
    weight = load["sqlite"].get("weight") or load["postgresql"].get("weight")
    if weight:
        for part in weight["parts"]:
            label = "page weight: quiz page + CSS + JS" if part == "total" else f"page weight: {part}"
            goal = "< 30 KB transferred" if part == "total" else ""
            cell = _weight(weight, part)
            rows.append((label, goal, {"sqlite": cell, "postgresql": "(same)"}))
    lines = ["| measure | goal | SQLite (WAL) | PostgreSQL |", "|---|---|---|---|"]
    lines += [f"| {label} | {goal} | {cells['sqlite']} | {cells['postgresql']} |" for label, goal, cells in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- RESULTS.md


def missed(results: dict) -> list[str]:
    """Every goal missed, per database, with the figure."""
    from .reports import missed_goals

    lines = []
    for backend in BACKENDS:
        rep = results.get(backend, {}).get("reports")
        if rep:
            lines += [f"{backend}: {text}" for text, _ in missed_goals(rep)]
        load = results.get(backend, {}).get("load") or {}
        lines += loadtable.missed(backend, load, results.get("baselines"))
    return lines


def slow_statements(results: dict) -> str:
    """The most expensive statements (by database time) behind each missed report goal, with their plans."""
    from .reports import missed_goals

    parts = []
    for backend in BACKENDS:
        rep = results.get(backend, {}).get("reports")
        by_measurement: dict[int, list[str]] = {}
        measurements = {}
        for text, measurement in (missed_goals(rep) if rep else []):
            by_measurement.setdefault(id(measurement), []).append(text)
            measurements[id(measurement)] = measurement
        for key, texts in by_measurement.items():
            q = measurements[key].get("queries")
            if not q:
                continue
            parts.append(f"**{backend} — {'; '.join(texts)}.** {q['statements']:,} statements; re-run alone they "
                         f"take {q['sql_s']:.2f} s in the database, the rest is Python.\n")
            for st in q["top"]:
                parts.append(f"- run {st['count']:,}×, {st['db_seconds'] * 1000:,.1f} ms each alone, {st['rows']:,} rows:\n\n"
                             f"```sql\n{_short_sql(st['sql'])}\n```\n```\n{_short_plan(st.get('plan', ''))}\n```\n")
    return "\n".join(parts)


def _short_sql(sql: str) -> str:
    """The statement with long runs of bound parameters (IN lists) collapsed."""
    sql = re.sub(r"(?:%\(\w+\)s(?:::\w+)?, ){4,}(%\(\w+\)s(?:::\w+)?)", r"…, \1", sql.strip())
    sql = re.sub(r"(?:\?, ){4,}\?", "?, …, ?", sql)
    return sql if len(sql) < 2500 else sql[:2500] + " …"


def _short_plan(plan: str, lines: int = 45, width: int = 200) -> str:
    rows = [r if len(r) <= width else r[:width] + " …" for r in plan.strip().splitlines()]
    return "\n".join(rows[:lines] + ([f"… ({len(rows) - lines} more lines in bench/out/results.json)"] if len(rows) > lines else []))


def record(results: dict, meta: dict) -> str:
    """The Markdown section for this run; appended to RESULTS.md unless told not to."""
    when = meta.get("when") or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {when} — {meta['label']}", "", f"Machine: {describe(meta['machine'])}.",
             f"Load average (1 min) before: {meta['load_before']:.2f}, after: {meta['load_after']:.2f}"
             + (" — other work was running on the machine (see \"machine … busy\" in the table); "
                "load figures are lower than on an idle one." if max(meta["load_before"], meta["load_after"]) > 0.7 else "."),
             "", table(results), "",
             "Phases: " + ", ".join(f"{k} {v:.0f} s" for k, v in meta["phases"].items()) + f"; total {meta['total_s']:.0f} s.",
             ""]
    goals = missed(results)
    if goals:
        lines += ["Missed goals:", ""] + [f"- {g}" for g in goals] + [""]
    slow = slow_statements(results)
    if slow:
        lines += ["<details><summary>Slowest statements behind the missed report goals, with plans</summary>", "",
                  slow, "</details>", ""]
    return "\n".join(lines) + "\n"


def append(section: str) -> None:
    """Add a run to bench/RESULTS.md (created with a short header if missing)."""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by `make bench` (`python -m bench`); newest last. "
                           "See bench/README.md for what is measured and how.\n\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(section)
