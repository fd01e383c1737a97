"""Running one load scenario and what it cost: wrk (closed loop), the open-loop generator, CPU per request.

A scenario's figures come with the CPU the app servers' processes (and nginx's, when it is in front)
used per request, the cores the load generator used, and how busy the whole machine was: that tells
CPU-bound from lock-bound, and shows when something else was running on the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from . import OUT, ROOT

HOST = "127.0.0.1"
WRK_THREADS = 2
SCRIPT = Path(__file__).parent / "lua" / "scenario.lua"


# ---------------------------------------------------------------- CPU


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk or the generator, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def cpu_snapshot(app_pids: list[int], proxy_pids: list[int] = ()) -> dict:
    """CPU seconds used so far by the app servers (main processes and workers) and the proxy (nginx's
    master and workers), and the machine's busy and total jiffies."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]
    return {"app": _process_cpu(_tree(app_pids)), "proxy": _process_cpu(_tree(list(proxy_pids))),
            "busy": sum(cpu[:8]) - idle, "total": sum(cpu[:8])}


def _tree(pids: list[int]) -> list[int]:
    return [p for pid in pids for p in [pid, *_children(pid)]]


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the server's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def costs(before: dict, after: dict, generator_cpu: float, requests: int, seconds: float) -> dict:
    """CPU per request of the app servers and the proxy, cores used by each and by the generator."""
    app, proxy = after["app"] - before["app"], after["proxy"] - before["proxy"]
    busy = (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"])
    return {"app_cpu_ms_per_request": 1000 * app / max(1, requests), "app_cores": app / seconds,
            "proxy_cpu_ms_per_request": 1000 * proxy / max(1, requests), "proxy_cores": proxy / seconds,
            "generator_cores": generator_cpu / seconds, "wrk_cores": generator_cpu / seconds, "machine_busy": busy}


# ---------------------------------------------------------------- wrk: a closed loop


def _lua(value) -> str:
    """A Python value as a Lua literal (strings, ints, lists, dicts)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    return "{" + ", ".join(f"{k} = {_lua(v)}" for k, v in value.items()) + "}"


def write_data(name: str, entries: list[dict]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"wrk-{name}.lua"
    path.write_text("return {\n" + ",\n".join(_lua(e) for e in entries) + "\n}\n", encoding="utf-8")
    return path


def wrk(base_url: str, pids: dict, mode: str, entries: list[dict], connections: int, duration: int,
        name: str = "") -> dict:
    """Run one wrk scenario against `base_url` (http://... or https://...); `pids`: {"app": [...],
    "proxy": [...]}. Returns throughput, latency percentiles (ms), error counts and CPU use."""
    data = write_data(name or f"{mode}-{connections}", entries)
    command = ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(SCRIPT), base_url.rstrip("/") + "/", "--", mode, str(data), str(WRK_THREADS)]
    before, wrk_before = cpu_snapshot(pids["app"], pids.get("proxy", ())), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    after, wrk_cpu = cpu_snapshot(pids["app"], pids.get("proxy", ())), _children_cpu() - wrk_before
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(line[6:])
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {"connections": connections, "requests": raw["requests"], "per_s": raw["requests"] / seconds,
            "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000, "errors": raw["bad"] + socket_errors, "bad_status": raw["bad"],
            "socket_errors": socket_errors, "stale": raw["stale"], "seconds": seconds,
            **costs(before, after, wrk_cpu, raw["requests"], seconds)}


# ---------------------------------------------------------------- the open-loop generator


def open_loop(spec: dict, pids: dict, name: str) -> dict:
    """Run bench/openloop.py on `spec` in a process of its own; its result with the CPU it cost."""
    spec_path, result_path = OUT / f"openloop-{name}.json", OUT / f"openloop-{name}-result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    limit = spec.get("duration", spec.get("window", 60)) + 180
    before = cpu_snapshot(pids["app"], pids.get("proxy", ()))
    done = subprocess.run([sys.executable, "-m", "bench.openloop", str(spec_path), str(result_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=limit, check=False)
    after = cpu_snapshot(pids["app"], pids.get("proxy", ()))
    if done.returncode != 0 or not result_path.exists():
        raise RuntimeError(f"the open-loop generator failed: {done.stderr[-1500:]}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    requests = result.get("count", 0) if result["kind"] == "saves" else sum(result["requests"].values())
    result.update(costs(before, after, result["generator_cpu_s"], requests, result["seconds"]))
    return result
