"""LearnHub benchmarks: a synthetic province, report/export timings, a load test of the production server with wrk.

`python -m bench` (what `make bench` runs) does everything and appends the table to bench/RESULTS.md;
see bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

# `config` and `learnhub` live at the repository root: make them importable however we were started.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
