"""``trackio tui``: the live terminal dashboard (Textual), or a one-shot text summary when stdout is
not a terminal. Importing this package loads neither Textual nor numpy; :func:`run_tui` does."""

from __future__ import annotations

import sys
from pathlib import Path

MIN_INTERVAL = 0.25  # seconds; faster polling costs CPU for no visible gain


def run_tui(project: str | None = None, run: str | None = None, interval: float = 1.0,
            directory: Path | None = None) -> None:
    """Open the dashboard on ``project`` (a picker when None) with ``run`` highlighted.

    ``interval`` is the poll period in seconds (floored at 0.25). ``directory`` is the data directory
    (default: the resolved ``TRACKIO_DIR``; ``--space`` passes a downloaded copy). When stdout is not
    a TTY, prints a text summary instead (:func:`trackio.tui.summary.print_summary`).

    Raises:
        SystemExit(1): summary mode and the project or run does not exist (message on stderr).
    """
    interval = max(MIN_INTERVAL, float(interval))
    if not sys.stdout.isatty():
        from .summary import print_summary

        code = print_summary(project, run, directory, sys.stdout)
        if code:
            raise SystemExit(code)
        return
    from .app import TrackioApp, default_glyphs

    TrackioApp(project, run, interval, directory, glyphs=default_glyphs(sys.stdout.encoding)).run()


__all__ = ["run_tui"]
