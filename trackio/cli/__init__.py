"""The ``trackio`` command line (contract §4), built with typer.

Modules: :mod:`.app` (command tree, exit codes), :mod:`.common` (shared options, project and run
resolution), :mod:`.listing` (``list``), :mod:`.getting` (``get``), :mod:`.query`, :mod:`.status`,
:mod:`.later` (``show``/``tui``/``sync``/``export``/``demo``), :mod:`.output` (JSON and tables).
Read commands import typer and the standard library only; rich is loaded to print a table or help.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with its code (130 on Ctrl-C; a closed pipe
    ends quietly with 1, as typer does)."""
    try:
        from .app import run

        code = run(argv)
        sys.stdout.flush()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader of the pipe is gone: route what is left to /dev/null so exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    raise SystemExit(code)
