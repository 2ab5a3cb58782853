"""Output of every command: strict JSON for agents, tables and lines for people (contract §4.1).

JSON: exactly one document, ``json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)`` plus a
newline, written as UTF-8 bytes whatever the locale. Human output: plain lines, and rich tables for
tabular data (rich is imported only here, only when a table is printed); colour only when stdout is
a TTY and ``NO_COLOR`` is unset or empty. Control characters of stored strings never reach the
terminal: human output and ``Error:`` lines show them escaped (:func:`safe`); JSON escapes them itself.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys

from ..store.decode import NONFINITE, finite

_dumps = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False).encode
_compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 (ECMA-48 §5: escape sequences start here)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match) -> str:
    c = m.group()
    return _NAMED.get(c) or f"\\x{ord(c):02x}"


def safe(text: str) -> str:
    """``text`` with every C0/C1 control character and DEL written as an escape (``\\n``, ``\\r``,
    ``\\t``, else ``\\xNN``), so a stored value cannot move the cursor, clear the screen or split a
    line. Escaping twice changes nothing more."""
    return _CONTROL.sub(_escape, text)


def write(text: str | bytes) -> None:
    """Write ``text`` to stdout as UTF-8 (a lone surrogate becomes a ``\\udcxx`` escape); ``bytes``
    are UTF-8 already and written as they are."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(text.decode("utf-8") if isinstance(text, bytes) else text)
        return
    sys.stdout.flush()
    out.write(text if isinstance(text, bytes) else text.encode("utf-8", "backslashreplace"))


def emit_json(doc: dict, tail_key: str | None = None, tail_chunks: list[bytes] | None = None) -> None:
    """Print ``doc`` as the one JSON document of this command.

    With ``tail_key``, the document gets one more key, last, whose value is a list already rendered
    as ``tail_chunks`` (UTF-8 entries joined by ``",\n"`` and indented for their place, as produced by
    :func:`trackio.store.readmetrics.metric_values_json`); the bytes are identical to dumping the
    whole document with the list inside, and the list is written chunk by chunk.
    """
    try:
        text = _dumps(doc)
    except ValueError:  # a float the JSON could not hold (e.g. 1e999 in an old file): the strings
        text = _dumps(finite(doc))
    if tail_key is None:
        return write(text + "\n")
    head = f"{text[:-2]},\n  " if doc else "{\n  "
    if not tail_chunks:
        return write(f"{head}{_dumps(tail_key)}: []\n}}\n")
    write(f"{head}{_dumps(tail_key)}: [\n")
    for i, chunk in enumerate(tail_chunks):
        if i:
            write(b",\n")
        write(chunk)
    write("\n  ]\n}\n")


def lines(*rows: str) -> None:
    """Print plain lines (control characters escaped by :func:`safe`)."""
    write("".join(f"{safe(r)}\n" for r in rows))


def human(value) -> str:
    """A stored value as people read it: strings bare, ``true``/``false``/``null``, numbers as
    Python writes them, lists and dicts as compact JSON text (never Python reprs)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else NONFINITE[repr(value)]
    if isinstance(value, int):
        return str(value)
    return _compact(finite(value))


def short_ts(ts: str | None) -> str:
    """A stored timestamp without its fraction of a second, for people."""
    if not ts:
        return ""
    head, dot, rest = ts.partition(".")
    return head + rest.lstrip("0123456789") if dot else ts


def color_on() -> bool:
    """The contract's colour rule for stdout: a TTY and ``NO_COLOR`` unset or empty."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def grid(columns: list[str], rows: list[list[str]], indent: str = "") -> list[str]:
    """Aligned text columns: header and cells ``ljust``-padded to the widest (in code points), joined
    with `` | ``; the separator is ``-`` × width joined with ``-+-`` (trailing spaces kept). Control
    characters are escaped (:func:`safe`) before widths are measured."""
    columns = [safe(c) for c in columns]
    rows = [[safe(c) for c in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    out = [" | ".join(c.ljust(w) for c, w in zip(columns, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return [indent + line for line in out] if indent else out


RICH_MAX_ROWS = 2000  # beyond this a rich table takes seconds to lay out; plain columns are used
MIN_WIDTH = 40  # narrowest table, in cells: below this rich gives columns no room and cells come out empty


def columns_env() -> int | None:
    """``COLUMNS`` as a positive int, else ``None`` (unset, empty, not a number, zero or negative)."""
    try:
        n = int(os.environ.get("COLUMNS") or 0)
    except ValueError:
        return None
    return n if n > 0 else None


def table(headers: list[str], rows: list[list[str]], indent: int = 0) -> None:
    """Print a table: rich, sized to the terminal (cells are plain text, never markup); when stdout is
    not a terminal, as wide as the content needs (a valid ``COLUMNS`` caps it) so piped lines never
    wrap. Never narrower than :data:`MIN_WIDTH` (or 8 cells a column) plus the indent. Very long
    tables are printed as plain aligned columns. Control characters are escaped (:func:`safe`)."""
    if len(rows) > RICH_MAX_ROWS:
        return lines(*grid(headers, rows, " " * indent))
    from rich import box
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    colour, tty = color_on(), sys.stdout.isatty()
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold" if colour else "")
    for h in headers:
        t.add_column(safe(h), overflow="fold")
    for r in rows:
        t.add_row(*(Text(safe(c)) for c in r))
    least = max(MIN_WIDTH, 8 * len(headers)) + indent
    console = Console(file=sys.stdout, width=None if tty else columns_env() or 10_000, no_color=not colour,
                      force_terminal=colour, highlight=False, emoji=False, markup=False)
    if console.width < least:  # rich took a tiny COLUMNS (or terminal) at its word
        console.width = least
    sys.stdout.flush()
    console.print(Padding(t, (0, 0, 0, indent), expand=False) if indent else t)
