"""Many branch meetings at once on one server: `python -m bench meetings` (not part of `make bench`).

  python -m bench meetings [--database-url URL] [--meetings 500] [--phones 30] [--questions 3] [--seconds 20]
                           [--window 60] [--no-proxy] [--no-record]

A scratch database of its own (bench/out/meetings.sqlite, or the empty PostgreSQL database a
--database-url names, created if missing and dropped at the end) gets a small province (bench.generate),
then, in-process with the app's own code (meetings_setup.py): a meeting per branch for each run, and a
signed-in device and session cookie per phone and for the organiser who drives every projector. Logins
are not part of this: what they cost is measured by the start of an exam (bench/load.py).

Then the production server (bench.stack.server), and unless --no-proxy nginx in front of two app
servers (bench.stack.proxied), each get the rooms of meetings_room.py: meetings starting at random over
`--window` seconds, their phones joining over the next 20 s, the secretary opening each question, closing
it after `--seconds`, showing its results ~8 s, and ending the meeting; phones polling and answering as
meeting.js does. Reported per kind of request: count, rate, p50/p95/p99/max latency, errors (status
≥ 500, no answer), 409s (question closed) apart; the lag from each `next` to each phone seeing the
question; answers acknowledged against the rows in the database (every acknowledged answer must be
there, with its latest seq); the CPU of the app servers, nginx and the generator; the load average.
"""

from __future__ import annotations

import json
import math
import os
import resource
import secrets
import subprocess
import sys
from datetime import datetime, timezone

from . import OUT, ROOT
from .common import PG_SERVER, dialect_of, drop_pg_database, ensure_pg_database, normalise_url, phase
from .meetings_client import KINDS

DEFAULT_URL = f"sqlite:///{OUT / 'meetings.sqlite'}"
TIMING = {"window": 60, "join_window": 20, "lobby": 5, "results": 8, "change_share": 0.05}


def raise_file_limit() -> int:
    """Open files: the soft limit up to the hard one (a connection per phone; the servers inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def check(acked: dict, stored: dict) -> dict:
    """Every acknowledged answer ("meeting position user" -> highest seq acknowledged) against the
    database's rows (same keys -> seq): missing ones are lost, an older seq is a lost change of mind."""
    missing = [k for k in acked if k not in stored]
    older = [k for k, seq in acked.items() if k in stored and stored[k] < seq]
    return {"acknowledged": len(acked), "stored": len(stored), "missing": len(missing), "older": len(older),
            "stored_not_acknowledged": len(set(stored) - set(acked)), "examples": (missing + older)[:5]}


def planned_seconds(questions: int, seconds: int, timing: dict) -> float:
    """How long the last meeting to start takes, at most, if the server keeps up."""
    return timing["window"] + timing["join_window"] + timing["lobby"] + questions * (seconds + timing["results"] + 3) + 10


def run(url: str, meetings: int = 500, phones: int = 30, questions: int = 3, seconds: int = 20, proxy: bool = True,
        seed: int = 2026, window: int = 60, record: bool = True) -> dict:
    from .generate import generate, print_summary
    from .meetings_setup import params_for, prepare
    from .stack import nginx_available, proxied, server

    raise_file_limit()
    url = normalise_url(url)
    timing = {**TIMING, "window": window}
    scratch = _scratch_pg(url)
    meta = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "load_before": os.getloadavg()[0],
            "meetings": meetings, "phones": phones, "questions": questions, "seconds": seconds, "window": window,
            "database": dialect_of(url), "phases": {}}
    try:
        with phase("meetings: generate", meta["phases"]):
            generated = generate(url, params_for(meetings, phones, seed))
            print_summary(generated)
        why_not = nginx_available() if proxy else "not asked for (--no-proxy)"
        labels = ["direct"] + ([] if why_not else ["nginx"])
        secret = secrets.token_hex(32)
        with phase("meetings: meetings and signed-in phones", meta["phases"]):
            prepared = prepare(url, secret, labels, meetings, phones, questions, seconds, timing, seed)
        results: dict = {"meta": meta, "nginx_skipped": why_not}
        log = OUT / f"server-meetings-{meta['database']}.log"
        with phase("meetings: direct", meta["phases"]), server(url, log, secret) as running:
            results["direct"] = _run_rooms("direct", running, prepared, url, secret, timing, [log])
        if "nginx" in labels:
            folder = OUT / f"nginx-meetings-{meta['database']}"
            with phase("meetings: through nginx", meta["phases"]), proxied(url, secret, folder) as running:
                results["nginx"] = _run_rooms("nginx", running, prepared, url, secret, timing,
                                              [folder / "app1.log", folder / "app2.log", folder / "error.log"])
        else:
            print(f"  through nginx: skipped, {why_not}", flush=True)
    finally:
        if scratch:
            drop_pg_database(scratch)
    meta["load_after"] = os.getloadavg()[0]
    (OUT / "meetings-results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    failed = [f"{label}: {text}" for label in ("direct", "nginx") if label in results for text in failures(results[label])]
    print("\n" + ("\n".join(f"failed: {text}" for text in failed) if failed else "no errors, no loss")
          + f"\n(figures in {(OUT / 'meetings-results.json').relative_to(ROOT)})", flush=True)
    if record:
        from .results import append

        append(section(results))
        print("appended to bench/RESULTS.md", flush=True)
    return results


def _scratch_pg(url: str) -> str | None:
    """The PostgreSQL database to drop at the end (created if missing; refused if it holds tables)."""
    if dialect_of(url) != "postgresql":
        return None
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    ensure_pg_database(url)
    with psycopg.connect(f"{PG_SERVER} dbname={name}") as conn:
        if conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]:
            raise SystemExit(f"{name} is not empty: name a new (or empty) database; it is dropped at the end")
    return name


def _run_rooms(label: str, running, prepared: dict, url: str, secret: str, timing: dict, logs: list) -> dict:
    """The generator (meetings_room.py, a process of its own) against one server; its figures, the CPU
    it all cost, and the check of the acknowledged answers against the database."""
    from .measure import cpu_snapshot, costs
    from .meetings_setup import stored_answers

    rooms = prepared["rooms"][label]
    ask, seconds = rooms[0]["ask"], rooms[0]["seconds"]
    planned = planned_seconds(ask, seconds, timing)
    spec = {"port": running.port, "tls": running.tls, "host": running.host,
            "staff_cookie": prepared["staff_cookie"], "meetings": rooms, "planned_s": planned, **timing}
    spec_path, result_path = OUT / f"meetings-{label}.json", OUT / f"meetings-{label}-result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    print(f"  {len(rooms)} meetings × {len(rooms[0]['phones'])} phones, {ask} questions of {seconds} s, "
          f"~{planned:.0f} s ({label})", flush=True)
    load_before = os.getloadavg()[0]
    before = cpu_snapshot(running.app_pids, running.proxy_pids)
    done = subprocess.run([sys.executable, "-m", "bench.meetings_room", str(spec_path), str(result_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=planned + 600, check=False)
    after = cpu_snapshot(running.app_pids, running.proxy_pids)
    if done.returncode != 0 or not result_path.exists():
        raise RuntimeError(f"the meetings generator failed: {done.stderr[-2000:]}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    result.update(costs(before, after, result["generator_cpu_s"], result["requests"], result["seconds"]))
    result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
    stored = stored_answers(url, secret, [room["id"] for room in rooms])
    result["check"] = check(result.pop("acked"), stored["answers"])
    result["attendance"], result["meetings_ended"] = stored["attendance"], stored["ended"]
    result["server_errors"] = {path.name: _log_errors(path) for path in logs}
    result["shape"] = {"meetings": len(rooms), "phones": len(rooms[0]["phones"]), "questions": ask, "seconds": seconds}
    print(report_run(label, result), flush=True)
    return result


def _log_errors(path) -> dict:
    """Tracebacks, "database is locked", workers that died, and nginx's complaints, in a server's log."""
    text = path.read_text(errors="replace") if path.exists() else ""
    found = {"tracebacks": text.count("Traceback (most recent call last)"), "locked": text.count("database is locked"),
             "worker_exits": text.count("Unexpected exit from worker"),
             "nginx_errors": sum(1 for line in text.splitlines() if "[error]" in line or "[alert]" in line
                                 or "[crit]" in line)}
    return {k: v for k, v in found.items() if v}


# ---------------------------------------------------------------- the report


def _ms(value: float) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def table(result: dict) -> list[str]:
    """A Markdown table: a row per kind of request."""
    lines = ["| request | count | per s | p50 ms | p95 ms | p99 ms | max ms | errors | 409 closed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in KINDS:
        k = result["kinds"][kind]
        lines.append(f"| {kind} | {k['count']:,} | {k['per_s']:,.1f} | {_ms(k['p50_ms'])} | {_ms(k['p95_ms'])} | "
                     f"{_ms(k['p99_ms'])} | {_ms(k['max_ms'])} | {k['errors']:,} | {k['closed_409']:,} |")
    return lines


def failures(result: dict) -> list[str]:
    """What went wrong in a run: errors, statuses nobody expected, lost answers, phones that never joined."""
    out = []
    errors = sum(k["errors"] for k in result["kinds"].values())
    if errors:
        out.append(f"{errors:,} errors (status ≥ 500 or no answer: {result['failures'] or 'statuses only'}; "
                   f"first, seconds into the run: {result.get('first_failure_s') or '-'})")
    if result["unexpected"]:
        out.append(f"unexpected statuses: {result['unexpected']}")
    c = result["check"]
    if c["missing"] or c["older"]:
        out.append(f"LOSS: {c['missing']:,} acknowledged answers missing from the database, {c['older']:,} stored "
                   f"with an older seq than acknowledged (e.g. {c['examples']})")
    for name in ("phones that could not join", "projectors without their page"):
        if result["people"].get(name):
            out.append(f"{result['people'][name]:,} {name}")
    troubled = {name: found for name, found in result.get("server_errors", {}).items() if found}
    if troubled:
        out.append(f"server logs: {troubled}")
    if result["crashed"] or result["unfinished_tasks"]:
        out.append(f"generator: {result['unfinished_tasks']} tasks unfinished, crashed: {result['crashed']}")
    return out


def _pace(p: dict) -> str:
    shown = f"{p['min']} / {p['median']} / {p['max']}" if p["min"] is not None else "none"
    return shown + (f" ({p['without']:,} polls without)" if p["without"] and p["min"] is not None else "")


def report_run(label: str, r: dict) -> str:
    s, a, c, lag = r["shape"], r["answers"], r["check"], r["lag"]
    proxy = (f", nginx {r['proxy_cpu_ms_per_request']:.2f} ms/request ({r['proxy_cores']:.2f} cores)"
             if r.get("proxy_cores") else "")
    logs = "; ".join(f"{name}: {found or 'clean'}" for name, found in r.get("server_errors", {}).items())
    lines = [
        f"\n### {label}: {s['meetings']:,} meetings × {s['phones']} phones, {s['questions']} questions of {s['seconds']} s",
        "", f"{r['requests']:,} requests answered in {r['seconds']:.0f} s: {r['per_s']:,.0f}/s on average, "
        f"{r['busiest_10s_per_s']:,.0f}/s in the busiest 10 s; {r['people'].get('phones joined', 0):,} phones joined "
        f"({r['attendance']:,} in the database), {r['meetings_ended']:,} meetings ended.", ""]
    lines += table(r)
    lines += ["", f"- phones seeing a question open after the secretary's `next`: p50 {_ms(lag['p50_ms'])} ms, "
              f"p99 {_ms(lag['p99_ms'])} ms, max {_ms(lag['max_ms'])} ms ({lag['count']:,} sightings of "
              f"{r['questions_opened']:,} questions; {r['lag_left_out']:,} by phones that joined later left out)",
              f"- answers: {a.get('given', 0):,} given ({a.get('requests', 0):,} requests), {a.get('acknowledged', 0):,} "
              f"acknowledged, {a.get('refused (409 closed)', 0):,} refused as closed, {a.get('lost after retries', 0):,} "
              f"given up after retries; database: {c['stored']:,} rows for {c['acknowledged']:,} acknowledged "
              f"(meeting, question, member): " + ("no loss" if not (c["missing"] or c["older"]) else
                                                   f"**{c['missing']:,} missing, {c['older']:,} older**"),
              f"- poll pacing (X-Poll-After, ms; min / median / max): phones {_pace(r['poll_after']['phone'])}, "
              f"projectors {_pace(r['poll_after']['screen'])}; phones with the page's token "
              f"{r['people'].get('phones with a page token', 0):,}",
              f"- CPU: app {r['app_cpu_ms_per_request']:.2f} ms/request ({r['app_cores']:.2f} cores){proxy}, "
              f"generator {r['generator_cores']:.2f} cores, machine {r['machine_busy']:.0%} busy; the generator's timers "
              f"late by p99 {_ms(r['late']['p99_ms'])} ms, requests waiting for their tab's connection (a poll or an "
              f"answer in flight) p99 {_ms(r['waited']['p99_ms'])} ms; load average {r['load_before']:.2f} before, {r['load_after']:.2f} after",
              f"- server logs: {logs}"]
    lines += [f"- **failed**: {text}" for text in failures(r)]
    return "\n".join(lines)


def report(results: dict) -> str:
    parts = [report_run(label, results[label]) for label in ("direct", "nginx") if label in results]
    return "\n".join(parts)


def section(results: dict) -> str:
    """The Markdown section bench/RESULTS.md gets for a run."""
    from .results import describe, machine

    m = results["meta"]
    head = (f"## {m['when']} — meetings: {m['meetings']:,} × {m['phones']} phones, {m['questions']} questions of "
            f"{m['seconds']} s, on {m['database']} (`python -m bench meetings`)")
    text = [head, "", f"Machine: {describe(machine())}.",
            f"Load average (1 min) before: {m['load_before']:.2f}, after: {m['load_after']:.2f}. Meetings started at "
            f"random over {m['window']} s; phases: " + ", ".join(f"{k} {v:.0f} s" for k, v in m["phases"].items()) + "."]
    text.append(report(results))
    if results.get("nginx_skipped"):
        text.append(f"\nThrough nginx: skipped ({results['nginx_skipped']}).")
    return "\n".join(text) + "\n\n"
