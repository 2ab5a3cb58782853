"""The ``trackio`` command line (contract §4), built with typer.

Modules: :mod:`.app` (command tree, exit codes), :mod:`.common` (shared options, project and run
resolution), :mod:`.listing` (``list``), :mod:`.getting` (``get``), :mod:`.query`, :mod:`.status`,
:mod:`.later` (``show``/``tui``/``sync``/``export``/``demo``), :mod:`.output` (JSON and tables).
Read commands import typer and the standard library only; rich is loaded to print a table or help.
"""

from __future__ import annotations

import os
import sys


def _to_devnull(fd: int) -> None:
    # Point fd at /dev/null: output still buffered for it is then dropped without another error
    # when the interpreter flushes at exit (which would print "Exception ignored" and exit 120).
    null = os.open(os.devnull, os.O_WRONLY)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with its code.

    Ctrl-C exits 130; a closed pipe ends quietly with 1, as typer does; any other failure to write
    stdout (a full disk, ``>&-``, an I/O error) is one ``Error:`` line on stderr and exit 1, never a
    traceback (contract §4.1).
    """
    if sys.stderr is None:  # started with fd 2 closed: keep it taken, so no file we open lands on it
        sys.stderr = open(os.devnull, "w")
    if sys.stdout is None:  # fd 1 closed (`>&-`): same, and nothing could be printed
        sys.stdout = open(os.devnull, "w")
        sys.stderr.write("Error: could not write output: standard output is closed.\n")
        raise SystemExit(1)
    try:
        from .app import run

        code = run(argv)
        sys.stdout.flush()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader of the pipe is gone: route what is left to /dev/null so exit stays quiet.
        _to_devnull(sys.stdout.fileno())
        code = 1
    except OSError as e:
        if e.filename is None:  # writing stdout failed (a file's error names the file)
            _to_devnull(sys.stdout.fileno())
            message = f"could not write output: {e.strerror or e}."
        else:
            message = str(e)
        sys.stderr.write(f"Error: {message}\n")
        code = 1
    raise SystemExit(code)
