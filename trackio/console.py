"""Console lines the Python side prints, and the colour rule (contract preamble and §1.12).

ANSI escapes only when the target stream is a TTY and ``NO_COLOR`` is unset or empty.
"""

from __future__ import annotations

import os
import sys

BOLD_ORANGE = "\x1b[1m\x1b[38;5;208m"
RESET = "\x1b[0m"


def colour_on(stream=None) -> bool:
    """True when ANSI colour may be written to ``stream`` (default ``sys.stdout``)."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def paint(text: str, code: str) -> str:
    """Wrap ``text`` in ``code`` … reset when colour is on for stdout."""
    return f"{code}{text}{RESET}" if colour_on() else text


def say(line: str) -> None:
    """Print one line to stdout and flush; never raises (a closed stdout must not stop training)."""
    try:
        print(line, flush=True)
    except UnicodeEncodeError:  # a lone surrogate, or a stdout that cannot encode the text
        try:
            enc = getattr(sys.stdout, "encoding", None) or "utf-8"
            print(line.encode(enc, "backslashreplace").decode(enc), flush=True)
        except (OSError, ValueError):
            pass
    except (OSError, ValueError):
        pass
