"""Core benchmarks (issue 2): log() cost in the calling thread, bulk durability against a bare sqlite3
floor, and ``import trackio`` against the standard library a logger needs.

Every figure is a median over repetitions; every ratio compares two measurements taken alternately
in the same run. Subprocesses get a fresh ``TRACKIO_DIR``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable

# One subprocess measures per-call cost of log() with perf_counter_ns around each call.
PER_CALL = r"""
import os, statistics, sys, time
import trackio
trackio.init(project="bench-core", name="per-call")
n, width = int(sys.argv[1]), int(sys.argv[2])
rows = [{f"m{j}": (i * 0.001 + j) for j in range(width)} for i in range(256)]
pc = time.perf_counter_ns
log = trackio.log
samples = []
for i in range(n):
    d = rows[i & 255]
    t0 = pc(); log(d); samples.append(pc() - t0)
trackio.finish()
print(statistics.median(samples) / 1000.0)
"""

# 100,000 log() calls of a 3-float dict, then finish(): wall time until everything is durable,
# printed as "<calls + finish> <import + init + calls + finish>" (seconds).
BULK_TRACKIO = r"""
import sys, time
t0 = time.perf_counter()
import trackio
trackio.init(project="bench-bulk", name="bulk")
t1 = time.perf_counter()
log = trackio.log
for i in range(100_000):
    log({"loss": 1.0 / (i + 1), "acc": i * 1e-5, "lr": 3e-4})
trackio.finish()
t2 = time.perf_counter()
print(t2 - t1, t2 - t0)
"""

# The physical floor: the same 100,000 JSON rows (built beforehand) inserted with one executemany
# into the same schema, same pragmas, then committed.
BULK_FLOOR = r"""
import json, os, sqlite3, sys, time, uuid
from datetime import datetime, timezone
d = os.environ["TRACKIO_DIR"]; os.makedirs(d, exist_ok=True)
from trackio.store.schema import connect_writer, ensure_schema
rid = uuid.uuid4().hex
ts = datetime.now(timezone.utc).isoformat(timespec="microseconds")
rows = [(rid, ts, "bulk", i, json.dumps({"loss": 1.0 / (i + 1), "acc": i * 1e-5, "lr": 3e-4},
                                        separators=(",", ":"))) for i in range(100_000)]
conn = connect_writer(os.path.join(d, "floor.db")); ensure_schema(conn)
t0 = time.perf_counter()
conn.execute("BEGIN IMMEDIATE")
conn.executemany("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)", rows)
conn.execute("COMMIT")
print(time.perf_counter() - t0)
"""


def _py_all(code: str, *args: str) -> list[float]:
    env = dict(os.environ, TRACKIO_DIR=tempfile.mkdtemp(prefix="trackio-bench-"))
    out = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, env=env, check=True).stdout
    return [float(x) for x in out.strip().splitlines()[-1].split()]


def _py(code: str, *args: str) -> float:
    return _py_all(code, *args)[0]


def _wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[tuple[str, str, str]]:
    reps = 3 if quick else 5
    rows = []
    m3 = statistics.median(_py(PER_CALL, "100000", "3") for _ in range(reps))
    rows.append(("log() 3-float dict, median per call", f"{m3:.2f} µs", "≤ 5 µs (upstream 0.43: 57 µs)"))
    m50 = statistics.median(_py(PER_CALL, "20000", "50") for _ in range(reps))
    rows.append(("log() 50-float dict, median per call", f"{m50:.2f} µs", "≤ 25 µs (upstream: 311 µs)"))

    ours, whole, floor, ratios, whole_ratios = [], [], [], [], []
    for _ in range(reps + 4):  # the paired ratio is the noisiest figure here: more pairs
        (a, w), b = _py_all(BULK_TRACKIO), _py(BULK_FLOOR)
        ours.append(a); whole.append(w); floor.append(b); ratios.append(a / b); whole_ratios.append(w / b)
    rows.append(("100k log() + finish(), durable", f"{statistics.median(ours):.3f} s", ""))
    rows.append(("  the same, counting import trackio + init() too", f"{statistics.median(whole):.3f} s", ""))
    rows.append(("bare sqlite3 executemany of the same 100k JSON rows", f"{statistics.median(floor):.3f} s", ""))
    rows.append((f"  ratio trackio / floor (median of {len(ratios)} paired runs; range "
                 f"{min(ratios):.2f}-{max(ratios):.2f})", f"{statistics.median(ratios):.2f} ×",
                 "≤ 1.5 × (upstream: about 10 ×)"))
    rows.append(("  ratio with import + init counted", f"{statistics.median(whole_ratios):.2f} ×", "-"))

    n = 10 if quick else 30
    a_t, b_t, r = [], [], []
    floor_cmd = [PY, "-c", "import sqlite3, json, threading, uuid, datetime"]
    ours_cmd = [PY, "-c", "import trackio"]
    _wall(ours_cmd), _wall(floor_cmd)  # warm the page cache and .pyc files
    for _ in range(n):
        a, b = _wall(ours_cmd), _wall(floor_cmd)
        a_t.append(a); b_t.append(b); r.append(a / b)
    rows.append(("python -c 'import trackio' (whole process)", f"{statistics.median(a_t) * 1000:.1f} ms", ""))
    rows.append(("python -c 'import sqlite3, json, threading, uuid, datetime'",
                 f"{statistics.median(b_t) * 1000:.1f} ms", ""))
    rows.append(("  ratio import trackio / stdlib floor", f"{statistics.median(r):.2f} ×",
                 "≤ 1.5 × (upstream: about 22 ×)"))
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(" | ".join(row))
