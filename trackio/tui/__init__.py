"""``trackio tui``: the live terminal dashboard (Textual), or a one-shot text summary when stdout is
not a terminal. Importing this package loads neither Textual nor numpy; :func:`run_tui` does."""

from __future__ import annotations

import math
import sys
from pathlib import Path

MIN_INTERVAL = 0.25  # seconds; faster polling costs CPU for no visible gain


def check_interval(interval) -> float:
    """The poll period in seconds: a finite number, floored at :data:`MIN_INTERVAL` (0.25 s).

    Raises:
        ValueError: ``interval`` is not a finite number.
    """
    try:
        value = float(interval)
    except (TypeError, ValueError):
        raise ValueError(f"interval must be a number of seconds, got {interval!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"interval must be a finite number of seconds, got {interval!r}")
    return max(MIN_INTERVAL, value)


def run_tui(project: str | None = None, run: str | None = None, interval: float = 1.0,
            directory: Path | None = None) -> None:
    """Open the dashboard on ``project`` (a picker when None), showing only ``run`` when given
    (the other runs start hidden).

    ``interval`` is the poll period in seconds (floored at 0.25). ``directory`` is the data directory
    (default: the resolved ``TRACKIO_DIR``; ``--space`` passes a downloaded copy). When stdin or
    stdout is not a TTY (a pipe, ``< /dev/null``, cron), prints a text summary instead
    (:func:`trackio.tui.summary.print_summary`): a dashboard nobody can type into cannot be quit.

    Raises:
        ValueError: ``interval`` is not a finite number.
        SystemExit(1): summary mode and the project or run does not exist (message on stderr), or
            the dashboard stopped on an error (Textual prints the traceback).
    """
    interval = check_interval(interval)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        from .summary import print_summary

        code = print_summary(project, run, directory, sys.stdout)
        if code:
            raise SystemExit(code)
        return
    from .app import TrackioApp, default_glyphs

    app = TrackioApp(project, run, interval, directory, glyphs=default_glyphs(sys.stdout.encoding))
    try:
        app.run()
    finally:
        app.release_gc()  # TrackioApp.settle_gc froze what was alive after loading
    if app.return_code:
        raise SystemExit(app.return_code)


__all__ = ["run_tui"]
