"""The load test's rows of the results table, and the load goals it missed (bench/results.py puts them together)."""

from __future__ import annotations

import math
import os

from .load import GOALS

BACKENDS = ("sqlite", "postgresql")


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def _ms(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.0f}"


def closed(m: dict | None, *, zero_errors: bool = False) -> str:
    """A wrk (closed-loop) scenario: rate, latency, errors."""
    if not m:
        return "n/a"
    if "per_s" not in m:
        return f"failed ({m.get('detail', '')[:60]})"
    ok = (m["errors"] == 0) if zero_errors else None
    return (f"{m['per_s']:,.0f}/s, p50 {_ms(m['p50_ms'])} / p90 {_ms(m['p90_ms'])} / p99 {_ms(m['p99_ms'])} ms, "
            f"{m['errors']} errors" + _mark(ok))


def open_ok(m: dict) -> bool:
    return m["errors"] == 0 and m["p99_ms"] < GOALS["save_p99_ms"]


def opened(m: dict | None) -> str:
    """An open-loop save scenario: what arrived, latency from the scheduled time, errors, how late it was sent."""
    if not m:
        return "n/a"
    return (f"{m['per_s']:,.0f}/s answered of {m['rate']:,.0f}/s sent, p50 {_ms(m['p50_ms'])} / p90 {_ms(m['p90_ms'])} / "
            f"p99 {_ms(m['p99_ms'])} / max {_ms(m['max_ms'])} ms, {m['errors']} errors"
            + (f", {m['stale']} stale" if m.get("stale") else "") + _mark(open_ok(m))
            + f" (sent late: p99 {m['late_p99_ms']:.1f} ms)")


def exam_ok(m: dict) -> bool:
    return m["failed"] == 0 and m["succeeded"] == m["members"] and m["pages"]["p99_ms"] < GOALS["exam_page_p99_ms"]


def exam(m: dict | None) -> str:
    if not m:
        return "n/a"
    pages, flow = m["pages"], m["flow"]
    return (f"{m['succeeded']:,} of {m['members']:,} opened their paper; page p50 {_ms(pages['p50_ms'])} / p99 "
            f"{_ms(pages['p99_ms'])} / max {_ms(pages['max_ms'])} ms; whole way in p99 {_ms(flow['p99_ms'])} ms"
            + _mark(exam_ok(m)) + (f"; {m['failures'][0]}" if m.get("failures") else ""))


def cpu(m: dict | None) -> str:
    if not m or "app_cpu_ms_per_request" not in m:
        return "n/a"
    proxy = f" + nginx {m['proxy_cpu_ms_per_request']:.2f} ms" if m.get("proxy_cores") else ""
    return (f"{m['app_cpu_ms_per_request']:.2f} ms{proxy}; server {m['app_cores']:.2f} of {os.cpu_count()} cores, "
            f"load generator {m.get('generator_cores', m.get('wrk_cores', 0)):.2f}, machine {m['machine_busy']:.0%} busy")


def exam_cpu(m: dict | None) -> str:
    if not m or "app_cores" not in m:
        return "n/a"
    members = max(1, m["succeeded"])
    per_member = 1000 * m["app_cores"] * m["seconds"] / members
    proxy = f" + nginx {1000 * m['proxy_cores'] * m['seconds'] / members:.1f} ms" if m.get("proxy_cores") else ""
    return (f"{per_member:.1f} ms{proxy} per member ({m['requests']['pages']:,} pages, {m['requests']['assets']:,} assets); "
            f"server {m['app_cores']:.2f} cores, machine {m['machine_busy']:.0%} busy")


def proxy_cost(load: dict) -> str:
    direct, proxied = load.get("saves_50"), load.get("nginx_saves_50")
    if not direct or not proxied:
        return "n/a"
    parts = [f"capacity {proxied['per_s'] / direct['per_s'] - 1:+.0%}",
             f"nginx {proxied['proxy_cpu_ms_per_request']:.2f} ms CPU per save"]
    a, b = load.get("open_share"), load.get("nginx_open_share")
    if a and b:
        parts.append(f"at {a['rate']:,.0f}/s p50 {b['p50_ms'] - a['p50_ms']:+.1f} ms, p99 {b['p99_ms'] - a['p99_ms']:+.1f} ms")
    a, b = load.get("exam_start"), load.get("nginx_exam_start")
    if a and b:
        parts.append(f"exam start page p50 {b['pages']['p50_ms'] - a['pages']['p50_ms']:+.0f} ms")
    return "; ".join(parts)


def ratio(load: dict, baselines: dict | None) -> str:
    app = load.get("saves_50")
    if not app or not baselines or "upsert" not in baselines:
        return "n/a"
    echo, upsert = app["per_s"] / baselines["echo"]["per_s"], app["per_s"] / baselines["upsert"]["per_s"]
    return f"{echo:.0%} of the echo, {upsert:.0%} of the upsert" + _mark(upsert >= GOALS["ceiling_share"])


def rows(load: dict[str, dict], baselines: dict | None) -> list[tuple[str, str, dict]]:
    """(measure, goal, {backend: cell}) for the load test."""
    share = next((m["open_share"]["rate"] for m in load.values() if m.get("open_share")), None)
    share_label = f"{GOALS['open_share']:.0%} of the capacity" + (f" (≈{share:,.0f}/s on SQLite)" if share else "")
    p99 = f"p99 < {GOALS['save_p99_ms']} ms, 0 errors"
    out = [
        ("answer saves, capacity: a closed loop of 50 members (wrk), direct", "—",
         {b: closed(load[b].get("saves_50")) for b in BACKENDS}),
        ("server CPU per answer save (capacity run), cores it used", "—", {b: cpu(load[b].get("saves_50")) for b in BACKENDS}),
    ]
    if baselines:
        out += [
            ("bare baseline: granian + Flask JSON echo, 50 at once", "—",
             {"sqlite": closed(baselines.get("echo")) + "; " + cpu(baselines.get("echo")), "postgresql": "(same run)"}),
            ("bare baseline: SQLite upsert of one answer (BEGIN IMMEDIATE, same synchronous), 50 at once", "—",
             {"sqlite": closed(baselines.get("upsert")) + "; " + cpu(baselines.get("upsert")), "postgresql": "(same run)"}),
            ("the app's save capacity as a share of the two baselines", f"≥ {GOALS['ceiling_share']:.0%} of the upsert",
             {b: ratio(load[b], baselines) for b in BACKENDS}),
        ]
    out += [
        (f"answers arriving at {GOALS['open_rate']:,}/s (open loop, 200 members), direct", p99,
         {b: opened(load[b].get("open_fixed")) for b in BACKENDS}),
        (f"answers arriving at {share_label}, direct", p99, {b: opened(load[b].get("open_share")) for b in BACKENDS}),
        ("answer saves, capacity through nginx (closed loop of 50, HTTPS)", "—",
         {b: closed(load[b].get("nginx_saves_50")) for b in BACKENDS}),
        (f"answers arriving at {GOALS['open_rate']:,}/s, through nginx", p99,
         {b: opened(load[b].get("nginx_open_fixed")) for b in BACKENDS}),
        (f"answers arriving at {share_label} of the direct capacity, through nginx", p99,
         {b: opened(load[b].get("nginx_open_share")) for b in BACKENDS}),
        ("what nginx costs (through nginx against direct)", "—", {b: proxy_cost(load[b]) for b in BACKENDS}),
        (f"the start of an exam: {GOALS['exam_members']:,} members sign in and open the paper within "
         f"{GOALS['exam_window_s']} s, direct", "all succeed, page p99 < 1 s",
         {b: exam(load[b].get("exam_start")) for b in BACKENDS}),
        ("the start of an exam, through nginx", "all succeed, page p99 < 1 s",
         {b: exam(load[b].get("nginx_exam_start")) for b in BACKENDS}),
        ("server CPU at the start of an exam (direct)", "—", {b: exam_cpu(load[b].get("exam_start")) for b in BACKENDS}),
        ("answer saves, 200 members (closed loop), while the organiser downloads the rollup export", "0 errors",
         {b: _during_export(load[b].get("saves_200_export")) for b in BACKENDS}),
        ("quiz page GET, 50 members at once", "—", {b: closed(load[b].get("page_50")) for b in BACKENDS}),
        ("logins (argon2id t=2, m=19 MiB), 50 at once", f"≥ {GOALS['logins_per_s']}/s",
         {b: _logins(load[b].get("logins_50")) for b in BACKENDS}),
        ("server CPU per login, cores it used", "—", {b: cpu(load[b].get("logins_50")) for b in BACKENDS}),
    ]
    return out


def _logins(m: dict | None) -> str:
    if not m or "per_s" not in m:
        return closed(m)
    return closed(m) + _mark(m["per_s"] >= GOALS["logins_per_s"])


def _during_export(m: dict | None) -> str:
    if not m or "per_s" not in m:
        return "n/a"
    export = m.get("export", {})
    outcome = (f"export HTTP {export['status']} in {export['seconds']:.0f} s" if export.get("status")
               else f"export failed after {export.get('seconds', 0):.0f} s")
    return closed(m, zero_errors=True) + f"; {outcome}"


def missed(backend: str, load: dict, baselines: dict | None) -> list[str]:
    """The load goals this database missed, each with its figure."""
    lines = []
    for key, what in (("open_fixed", "direct"), ("open_share", "direct"), ("nginx_open_fixed", "through nginx"),
                      ("nginx_open_share", "through nginx")):
        m = load.get(key)
        if m and not open_ok(m):
            lines.append(f"{backend}: answers arriving at {m['rate']:,.0f}/s {what}: p99 {_ms(m['p99_ms'])} ms "
                         f"({m['p99_ms'] / GOALS['save_p99_ms']:.1f}× the {GOALS['save_p99_ms']} ms goal), "
                         f"{m['errors']} errors, {m['per_s']:,.0f}/s answered")
    for key, what in (("exam_start", "direct"), ("nginx_exam_start", "through nginx")):
        m = load.get(key)
        if m and not exam_ok(m):
            lines.append(f"{backend}: the start of an exam {what}: {m['succeeded']:,} of {m['members']:,} opened their "
                         f"paper, page p99 {_ms(m['pages']['p99_ms'])} ms (goal < 1,000 ms)")
    app = load.get("saves_50")
    if app and baselines and "upsert" in baselines and app["per_s"] < GOALS["ceiling_share"] * baselines["upsert"]["per_s"]:
        lines.append(f"{backend}: save capacity {app['per_s']:,.0f}/s is {app['per_s'] / baselines['upsert']['per_s']:.0%} "
                     f"of the bare SQLite upsert ({baselines['upsert']['per_s']:,.0f}/s; goal ≥ 50 %)")
    m = load.get("logins_50")
    if m and "per_s" in m and m["per_s"] < GOALS["logins_per_s"]:
        lines.append(f"{backend}: logins {m['per_s']:,.0f}/s ({m['per_s'] / GOALS['logins_per_s']:.0%} of 90/s)")
    m = load.get("saves_200_export")
    if m and m.get("errors"):
        lines.append(f"{backend}: {m['errors']} errors ({m['bad_status']} HTTP, {m['socket_errors']} socket/timeouts) "
                     f"under 200 members during the rollup export")
    m = (load.get("saves_200_export") or {}).get("export")
    if m and m.get("status") != 200:
        lines.append(f"{backend}: the rollup export itself failed under load after {m.get('seconds', 0):.0f} s "
                     f"({m.get('error') or 'HTTP ' + str(m.get('status'))})")
    for errors in [load.get("server_errors") or {}, *(load.get("nginx_server_errors") or {}).values()]:
        if errors.get("worker_exits") or errors.get("locked"):
            lines.append(f"{backend}: server log: {errors.get('worker_exits', 0)} workers exited unexpectedly, "
                         f"{errors.get('locked', 0)} 'database is locked' ({errors.get('log')})")
    if load.get("nginx_skipped"):
        lines.append(f"{backend}: nothing measured through nginx: {load['nginx_skipped']}")
    return lines
