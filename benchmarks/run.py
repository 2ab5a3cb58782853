"""Benchmark runner: ``python benchmarks/run.py [area ...] [--quick]`` prints one table.

Each ``benchmarks/bench_<area>.py`` defines ``run(quick: bool) -> list[tuple[str, str, str]]``:
rows of (what was measured, the figure, the target it is compared with). Ratios are always taken
side by side in the same run, so a slow or noisy machine moves both sides. Exit status 1 when an
area failed (its row says FAILED and why), 2 for an unknown area name.

Each area runs in a process of its own (``--one AREA``, rows back as one JSON line after :data:`MARK`): an area that imports
torch must not leave the runner holding 450 MB, which Linux would report as the peak RSS
(``ru_maxrss``) of every child started after it, and environment variables an area sets stay in it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = "BENCH-ROWS "  # starts the one stdout line of an area's process that carries its rows
AREA_TIMEOUT = 3600  # seconds one area may take


def _one(area: str, quick: bool) -> int:
    spec = importlib.util.spec_from_file_location(f"bench_{area}", HERE / f"bench_{area}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [list(r) for r in module.run(quick)]
    print("\n" + MARK + json.dumps(rows), flush=True)
    return 0


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    if "--one" in argv:
        return _one(argv[argv.index("--one") + 1], quick)
    wanted = [a for a in argv if not a.startswith("-")]
    areas = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    unknown = [a for a in wanted if a not in areas]
    if unknown:
        print(f"unknown area(s): {', '.join(unknown)}; choose from: {', '.join(areas)}", file=sys.stderr)
        return 2
    rows: list[tuple[str, str, str, str]] = []
    failed = 0
    for area in areas:
        if wanted and area not in wanted:
            continue
        print(f"running {area} ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", area] + (["--quick"] if quick else [])
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=AREA_TIMEOUT)
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith(MARK)]
            got = json.loads(lines[-1][len(MARK):]) if p.returncode == 0 and lines else None
            why = f"exit status {p.returncode}" if p.returncode else "no rows printed"
        except subprocess.TimeoutExpired:
            got, why = None, f"timed out after {AREA_TIMEOUT} s"
        if got is None:  # one broken area must not hide the others' figures (its traceback is on stderr)
            rows.append((area, "FAILED", why, ""))
            failed += 1
            continue
        rows += [(area, *r) for r in got]
    widths = [max(len(r[i]) for r in rows + [("area", "measure", "figure", "target")]) for i in range(4)]
    header = ("area", "measure", "figure", "target")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
