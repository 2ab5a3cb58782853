"""One-shot text summary printed by ``trackio tui`` when stdout is not a terminal (pipes, ``watch``,
CI logs). Plain text, no colour, no Textual: runs with status and last step, last/min/max of each
metric, and the newest alerts."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TextIO

from ..store.paths import canon, data_dir
from ..store.reader import ProjectNotFound, ProjectUnreadable, list_projects, open_project
from ..store.runs import project_runs
from ..store.series import max_id, read_alerts, read_run
from .text import ago


def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return f"{v:.6g}"


def print_summary(project: str | None, run: str | None, directory: Path | None, out: TextIO,
                  alerts: int = 10) -> int:
    """Write the summary to ``out``; returns the exit code (1 with a message on stderr on error)."""
    import sys

    import numpy as np

    d = directory or data_dir()
    if project is None:
        names = list_projects(d)
        if not names:
            out.write(f"No trackio projects found in {d}.\n")
            return 0
        out.write(f"{len(names)} trackio project(s) in {d}:\n")
        for n in names:
            out.write(f"  {n}\n")
        out.write("Run `trackio tui --project NAME` in a terminal for the live dashboard.\n")
        return 0
    try:
        conn = open_project(project, d)
    except ProjectNotFound:
        print(f"Error: Project '{project}' not found.", file=sys.stderr)
        return 1
    except ProjectUnreadable as e:
        print(f"Error: Project '{project}' cannot be read: {e}", file=sys.stderr)
        return 1
    try:
        runs = project_runs(conn)
        if run is not None:
            runs = [r for r in runs if run in (r.name, r.id)]
            if not runs:
                print(f"Error: Run '{run}' not found in project '{project}'.", file=sys.stderr)
                return 1
        hi = max_id(conn, "metrics")
        running = sum(1 for r in runs if r.status == "running")
        out.write(f"Project: {canon(project)}  ({len(runs)} run(s), {running} running)\n")
        now = time.time()
        for r in runs:
            block = read_run(conn, r.id, hi)
            last_step = int(block.steps.max()) if block.steps.size else None
            age = now - float(block.times[-1]) if block.times.size and math.isfinite(block.times[-1]) else None
            out.write(f"\nRun: {r.name}  [{r.status}]  step {last_step if last_step is not None else '-'}"
                      f"  rows {block.ids.size}" + (f"  updated {ago(age)} ago" if age is not None else "") + "\n")
            if not block.columns:
                out.write("  (no numeric metrics)\n")
            for k, text in sorted((block.texts or {}).items()):
                out.write(f"  {k}  text: {text}\n")
            # Names align in a column, but one very long name only pushes its own line out.
            width = min(max((len(k) for k in block.columns), default=0), 40)
            for k in sorted(block.columns):
                y = block.columns[k].y
                fin = y[np.isfinite(y)]
                lo = _num(float(fin.min())) if fin.size else "-"
                hi_ = _num(float(fin.max())) if fin.size else "-"
                out.write(f"  {k.ljust(width)}  last {_num(float(y[-1]))}  min {lo}  max {hi_}\n")
        ids = {r.id for r in runs}
        found = [a for a in read_alerts(conn) if a.run_id in ids]
        found.sort(key=lambda a: (a.time, a.id), reverse=True)
        out.write(f"\nAlerts: {len(found)}" + (f" (newest {alerts})" if len(found) > alerts else "") + "\n")
        for a in found[:alerts]:
            step = a.step if a.step is not None else "-"
            text = f": {a.text}" if a.text else ""
            out.write(f"  {a.timestamp}  {a.level.upper():5}  {a.run_name}  {a.title}{text} (step {step})\n")
        return 0
    finally:
        conn.close()
