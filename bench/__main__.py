"""`python -m bench [--quick]`: everything, on SQLite then PostgreSQL; one table, appended to RESULTS.md.

Parts on their own:
  python -m bench generate [--database-url URL] [--members N --branches M --responses K] [--seed S] [--quick]
  python -m bench reports  [--database-url URL]
  python -m bench load     [--database-url URL] [--duration S] [--no-proxy]
  python -m bench baselines [--duration S]   (the bare echo and SQLite upsert, served as the app is)
  python -m bench savecost [--database-url URL] [--saves N] [--callgrind]
  python -m bench uploadcost [--rounds N]
  python -m bench keyfix   [--papers N] [--postgres]   (a scratch database of its own)
  python -m bench bankimport [--questions N] [--postgres]   (a scratch database of its own)
  python -m bench orgimport [--branches N] [--members M] [--no-postgres]   (scratch databases of its own)
  python -m bench meetings [--database-url URL] [--meetings 500] [--phones 30] [--questions 3] [--no-proxy]
                           (a scratch database of its own: bench/out/meetings.sqlite by default)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import OUT
from .common import (
    DEFAULT_SQLITE_URL,
    create_pg_database,
    dialect_of,
    drop_pg_database,
    ensure_pg_database,
    exclusive_run,
    phase,
)


def _params(args):
    from .generate import Params

    params = Params.quick(args.seed) if args.quick else Params(seed=args.seed)
    for name in ("members", "branches", "responses"):
        if getattr(args, name, None):
            setattr(params, name, getattr(args, name))
    return params


def cmd_generate(args) -> None:
    """Build the data set in one database."""
    from .generate import generate, print_summary

    if dialect_of(args.database_url) == "postgresql":
        ensure_pg_database(args.database_url)
    print_summary(generate(args.database_url, _params(args)))


def cmd_reports(args) -> None:
    """Report and export timings on an already generated database."""
    from .reports import measure, missed_goals

    result = measure(args.database_url)
    for text, _ in missed_goals(result):
        print(f"  missed: {text}")


def cmd_load(args) -> None:
    """The load test on an already generated database."""
    from .load import run

    print(json.dumps(run(args.database_url, args.duration, proxy=not args.no_proxy), indent=1))


def cmd_baselines(args) -> None:
    """The two bare baselines (Flask JSON echo, SQLite upsert) on the production server's settings."""
    from .load import baselines

    print(json.dumps(baselines(args.duration), indent=1))


def cmd_savecost(args) -> None:
    """CPU time (and with --callgrind, instructions) of one answer save in the app, without a server."""
    from .savecost import run

    run(args.database_url, args.saves, args.callgrind, args.steps)


def cmd_uploadcost(args) -> None:
    """CPU time to read hostile uploads at the limits and a legitimate file near the upload size."""
    from .uploadcost import run

    run(args.rounds)


def cmd_keyfix(args) -> None:
    """A key correction over N handed-in papers: its time, longest write-lock hold, a save's longest wait."""
    from .keyfix import run

    print(json.dumps(run(args.papers, args.postgres), indent=1))


def cmd_bankimport(args) -> None:
    """A 5,000-question spreadsheet imported through the pages (preview + confirm): time and peak memory."""
    from .bankimport import run

    run(args.questions, args.postgres)


def cmd_orgimport(args) -> None:
    """Import a 2,000-branch organisation file (twice) and a 100,000-member roster: time and peak memory."""
    from .orgimport import run

    run(args.branches, args.members, postgres=not args.no_postgres)


def cmd_meetings(args) -> None:
    """Many branch meetings at once (phones joining, polling, answering; projectors): per-request latency, loss."""
    from .meetings import run

    run(args.database_url, args.meetings, args.phones, args.questions, args.seconds, proxy=not args.no_proxy,
        seed=args.seed, window=args.window, record=not args.no_record)


def run_backend(backend: str, url: str, args, phases: dict) -> dict:
    """Generate, measure reports, load-test one database; a failing phase is recorded, the rest still run."""
    from .generate import generate, print_summary
    from .load import run as load
    from .reports import measure

    out: dict = {}
    steps = [("generate", lambda: generate(url, _params(args))), ("reports", lambda: measure(url)),
             ("load", lambda: load(url, args.duration, proxy=not args.no_proxy))]
    for name, step in steps:
        with phase(f"{backend}: {name}", phases):
            try:
                out[name] = step()
            except Exception as exc:  # keep going: the other figures are still worth having
                print(f"  {name} failed: {type(exc).__name__}: {exc}", flush=True)
                out[name] = None
                if name == "generate":
                    return out
        if name == "generate":
            print_summary(out[name])
    return out


def wait_for_quiet(limit: int) -> None:
    """Wait up to `limit` seconds for the 1-minute load average to fall under 0.5 (a shared machine)."""
    deadline = time.monotonic() + limit
    while os.getloadavg()[0] >= 0.5 and time.monotonic() < deadline:
        print(f"waiting for the machine to go quiet (load average {os.getloadavg()[0]:.2f})", flush=True)
        time.sleep(min(15, max(1, deadline - time.monotonic())))


def cmd_all(args) -> None:
    """Everything end to end; print the table; append it to bench/RESULTS.md."""
    from .results import append, describe, machine, missed, record, table

    wait_for_quiet(args.wait_idle)
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"machine": machine(), "load_before": os.getloadavg()[0], "phases": {}}
    params = _params(args)
    meta["label"] = (f"{'quick' if args.quick else 'full'}: {params.members:,} members, {params.branches:,} branches, "
                     f"{params.responses:,} responses (seed {params.seed})")
    print(f"LearnHub benchmark — {meta['label']}\n{describe(meta['machine'])}", flush=True)
    results: dict = {}
    with phase("bare baselines", meta["phases"]):
        from .load import baselines

        try:
            results["baselines"] = baselines(args.duration)
        except Exception as exc:  # keep going: the app's own figures are still worth having
            print(f"  baselines failed: {type(exc).__name__}: {exc}", flush=True)
    results["sqlite"] = run_backend("sqlite", args.database_url, args, meta["phases"])
    if not args.no_postgres:
        name = f"learnhub_bench_{os.getpid()}"
        try:
            url = create_pg_database(name)
        except Exception as exc:
            print(f"\nPostgreSQL skipped: {exc}", flush=True)
        else:
            try:
                results["postgresql"] = run_backend("postgresql", url, args, meta["phases"])
            finally:
                drop_pg_database(name)
    meta["load_after"] = os.getloadavg()[0]
    meta["total_s"] = time.perf_counter() - started
    saved = {**results, "meta": meta}
    (OUT / "results.json").write_text(json.dumps(saved, indent=1, default=str, ensure_ascii=False), encoding="utf-8")
    print("\n" + table(results) + "\n")
    for line in missed(results):
        print(f"missed: {line}")
    print(f"\ntotal {meta['total_s']:.0f} s", flush=True)
    if not args.no_record:
        append(record(results, meta))
        print("appended to bench/RESULTS.md")


def _options(parser, defaults: bool) -> None:
    """The options every command takes (a subcommand's copy leaves the top level's values alone)."""
    def default(value):
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--quick", action="store_true", default=default(False),
                        help="10,000 members / 200 branches / 200,000 responses")
    parser.add_argument("--seed", type=int, default=default(2026))
    parser.add_argument("--duration", type=int, default=default(15), help="seconds per load scenario (default 15)")
    parser.add_argument("--database-url", default=default(None),
                        help=f"SQLite or PostgreSQL URL (default {DEFAULT_SQLITE_URL})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _options(parser, defaults=True)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-proxy", action="store_true", help="nothing through nginx")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--wait-idle", type=int, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for the load average to fall under 0.5")
    sub = parser.add_subparsers(dest="command")
    for name, fn in (("generate", cmd_generate), ("reports", cmd_reports), ("load", cmd_load), ("baselines", cmd_baselines),
                     ("savecost", cmd_savecost), ("uploadcost", cmd_uploadcost), ("keyfix", cmd_keyfix),
                     ("bankimport", cmd_bankimport), ("orgimport", cmd_orgimport), ("meetings", cmd_meetings)):
        p = sub.add_parser(name, help=fn.__doc__)
        _options(p, defaults=False)
        p.set_defaults(fn=fn)
    for name in ("members", "branches", "responses"):
        sub.choices["generate"].add_argument(f"--{name}", type=int)
    sub.choices["load"].add_argument("--no-proxy", action="store_true", help="nothing through nginx")
    sub.choices["savecost"].add_argument("--saves", type=int, default=2000, help="saves per round (default 2000)")
    sub.choices["savecost"].add_argument("--callgrind", action="store_true", help="also count instructions per save")
    sub.choices["savecost"].add_argument("--steps", action="store_true", help="also time each step of a save")
    sub.choices["uploadcost"].add_argument("--rounds", type=int, default=3, help="rounds per file (default 3)")
    sub.choices["keyfix"].add_argument("--papers", type=int, default=6000, help="handed-in papers (default 6000)")
    sub.choices["keyfix"].add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database, not SQLite")
    sub.choices["bankimport"].add_argument("--questions", type=int, default=5000, help="questions (default 5000)")
    sub.choices["bankimport"].add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database, not SQLite")
    sub.choices["orgimport"].add_argument("--branches", type=int, default=2000, help="党支部 in the file (default 2000)")
    sub.choices["orgimport"].add_argument("--members", type=int, default=100_000, help="members in the roster (default 100,000)")
    sub.choices["orgimport"].add_argument("--no-postgres", action="store_true", help="SQLite only")
    meetings = sub.choices["meetings"]
    meetings.add_argument("--meetings", type=int, default=500, help="meetings at once, one per branch (default 500)")
    meetings.add_argument("--phones", type=int, default=30, help="phones per meeting (default 30)")
    meetings.add_argument("--questions", type=int, default=3, help="questions asked per meeting (default 3)")
    meetings.add_argument("--seconds", type=int, default=20, help="seconds per question (default 20)")
    meetings.add_argument("--window", type=int, default=60, help="meetings start at random within this many seconds")
    meetings.add_argument("--no-proxy", action="store_true", help="nothing through nginx")
    meetings.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    meetings.set_defaults(own_database=f"sqlite:///{OUT / 'meetings.sqlite'}")
    args = parser.parse_args(argv)
    if args.database_url is None and getattr(args, "own_database", None):
        args.database_url = args.own_database
    if args.database_url is None:
        args.database_url = DEFAULT_SQLITE_URL.replace("bench.sqlite", "bench-quick.sqlite") if args.quick else DEFAULT_SQLITE_URL
    with exclusive_run():
        getattr(args, "fn", cmd_all)(args)


if __name__ == "__main__":
    main(sys.argv[1:])
