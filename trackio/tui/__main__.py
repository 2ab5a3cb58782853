"""``python -m trackio.tui [--project P] [--run R] [--interval S] [--dir D]``: launcher until the CLI
wires ``trackio tui``."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import run_tui

if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m trackio.tui")
    ap.add_argument("--project")
    ap.add_argument("--run")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--dir", type=Path)
    a = ap.parse_args()
    try:
        run_tui(a.project, a.run, a.interval, a.dir)
    except ValueError as e:
        ap.error(str(e))
