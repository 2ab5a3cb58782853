"""Benchmark runner: ``python benchmarks/run.py [area ...] [--quick]`` prints one table.

Each ``benchmarks/bench_<area>.py`` defines ``run(quick: bool) -> list[tuple[str, str, str]]``:
rows of (what was measured, the figure, the target it is compared with). Ratios are always taken
side by side in the same run, so a slow or noisy machine moves both sides.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("-")]
    rows: list[tuple[str, str, str, str]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        area = path.stem[len("bench_"):]
        if wanted and area not in wanted:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"running {area} ...", file=sys.stderr, flush=True)
        try:
            for what, figure, target in module.run(quick):
                rows.append((area, what, figure, target))
        except Exception as e:  # one broken area must not hide the others' figures
            import traceback

            traceback.print_exc()
            rows.append((area, "FAILED", f"{type(e).__name__}: {e}"[:60], ""))
    widths = [max(len(r[i]) for r in rows + [("area", "measure", "figure", "target")]) for i in range(4)]
    header = ("area", "measure", "figure", "target")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
