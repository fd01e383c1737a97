"""Read a spreadsheet (.xlsx, .xls, .ods) with calamine, in a child process under memory and CPU limits.

calamine (Rust) is fast but builds each sheet as a dense grid and copies a shared string into every cell
that uses it: a 1.4 KB .xlsx with cells at A1 and XFD1048576 asks for 512 GB and aborts the process, and
a 42 KB one whose 20,000 cells share one 30,000-character string takes 1.1 GB. Neither can be seen
cheaply before parsing for every format (.xls is a binary compound file), so the parse runs here, in a
process of its own whose address space and CPU time are capped: a hostile file kills this child, never
the server. `tables.py` starts it and turns what it prints into rows.

Standalone on purpose (run as a script, imports nothing from learnhub): usage
`python sheet_child.py SUFFIX MAX_ROW MAX_COLUMNS MAX_CELLS MEMORY_MB CPU_SECONDS < file`, prints JSON:
{"sheets": [{"name", "visible", "rows": [[row number, [text, ...]], ...]}], "peak_kb": n} or {"error": code, ...}.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import sys

# Excel keeps at most 32,767 characters in a cell: a longer one was not written by a spreadsheet program.
MAX_CELL_CHARS = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")


def clean(text: str) -> str:
    """Drop NUL and other control characters (PostgreSQL refuses NUL), unify line ends, trim."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def shown(value: object) -> str:
    """A cell's value as a person reads it: 1.0 -> "1", 0.30000000000000004 -> "0.3", dates as 2024-05-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M" + (":%S" if value.second else ""))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M" + (":%S" if value.second else ""))
    if isinstance(value, dt.timedelta):
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60}:{minutes % 60:02d}" + (f":{seconds:02d}" if seconds else "")
    return clean(str(value))


def read(data: bytes, max_row: int, max_columns: int, max_cells: int) -> dict:
    """Every worksheet's non-empty rows, as shown; or {"error": code, ...} for a file that breaks a limit."""
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        return {"error": "encrypted"}
    except Exception:  # noqa: BLE001 - calamine reports a damaged file in many ways; all are "corrupt"
        return {"error": "corrupt"}
    sheets, cells = [], 0
    for index, meta in enumerate(book.sheets_metadata):
        if str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
            continue
        try:
            grid = book.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except python_calamine.PasswordError:
            return {"error": "encrypted"}
        except Exception:  # noqa: BLE001
            return {"error": "corrupt"}
        rows = []
        for number, values in enumerate(grid, start=1):
            texts = [shown(v) for v in values[:max_columns]]
            while texts and not texts[-1]:
                texts.pop()
            if not texts:
                continue
            if number > max_row:
                return {"error": "rows", "sheet": meta.name}
            if any(len(t) > MAX_CELL_CHARS for t in texts):
                return {"error": "cell", "sheet": meta.name, "row": number}
            cells += sum(1 for t in texts if t)
            if cells > max_cells:
                return {"error": "cells"}
            rows.append([number, texts])
        del grid
        sheets.append({"name": meta.name, "visible": str(meta.visible).endswith("Visible"), "rows": rows})
    return {"sheets": sheets}


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process: address space (a failed allocation aborts calamine) and CPU time (SIGXCPU)."""
    try:
        import resource
    except ImportError:  # not on Unix: the parent's wall-clock timeout still applies
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _peak_kb() -> int:
    """This process's peak resident memory since exec (VmHWM; getrusage would count the parent's before exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def main(argv: list[str]) -> int:
    _suffix, max_row, max_columns, max_cells, memory_mb, cpu_seconds = argv[1], *map(int, argv[2:7])
    _limit(memory_mb, cpu_seconds)
    data = sys.stdin.buffer.read()
    try:
        out = read(data, max_row, max_columns, max_cells)
    except MemoryError:
        out = {"error": "memory"}
    out["peak_kb"] = _peak_kb()
    sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
