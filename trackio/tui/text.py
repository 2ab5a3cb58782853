"""Text helpers without Textual or numpy: the one glyph table (Unicode → ASCII), locale detection,
and compact ages. Imported by the one-shot summary as well as by the dashboard."""

from __future__ import annotations

import math
import os
from typing import Mapping

# Every non-ASCII symbol the dashboard prints, and what it becomes when the terminal cannot show
# Unicode. Box drawing and block characters (Textual's borders, scrollbars, toasts) are mapped by
# ranges in :data:`ASCII_TABLE` below; anything else left over becomes "?" (see :func:`to_ascii`).
SYMBOLS = {
    "·": "-", "●": "*", "⚑": "!", "≈": "~", "…": "...", "≥": ">=", "≤": "<=", "→": "->", "←": "<-",
    "↑": "^", "↓": "v", "■": "#", "□": "o", "✓": "+", "✗": "x", "×": "x", "━": "=", "╍": "-", "┅": ".",
    "▔": "-", "▁": "_", "▏": "|", "▕": "|", "▎": "|", "▊": "|", "▌": "|", "▐": "|", "█": "#", "▀": "-",
    "▄": "_", "⣿": "#",
}


def _box_ascii(ch: str) -> str:
    """ASCII stand-in for a box-drawing character (U+2500-U+257F), by its Unicode name."""
    import unicodedata

    name = unicodedata.name(ch, "")
    if "HORIZONTAL" in name and "VERTICAL" not in name:
        return "-"
    if "VERTICAL" in name and "HORIZONTAL" not in name and "AND" not in name:
        return "|"
    if "DASH" in name or "DOUBLE DASH" in name:
        return "-"
    return "+"


def _table() -> dict[int, str]:
    table = {ord(k): v for k, v in SYMBOLS.items()}
    for cp in range(0x2500, 0x2580):
        table.setdefault(cp, _box_ascii(chr(cp)))
    for cp in range(0x2580, 0x25A0):  # block elements (scrollbar thumbs, toast edges)
        table.setdefault(cp, " ")
    for cp in range(0x2800, 0x2900):  # braille: never drawn in ASCII mode, but never sent either
        table.setdefault(cp, "." if cp > 0x2800 else " ")
    return table


ASCII_TABLE = _table()  # code point -> ASCII text (may be longer than one cell)
_NARROW = {k: v[:1] for k, v in ASCII_TABLE.items()}  # same, cut to one cell


def to_ascii(text: str, keep_width: bool = False) -> str:
    """``text`` with every symbol of the table replaced; other non-ASCII characters become ``?``.

    With ``keep_width`` every character keeps its cell width (a table entry longer than one cell is
    cut to its first character, a wide character becomes ``??``): for rendered lines, whose layout
    is already fixed.
    """
    if text.isascii():
        return text
    text = text.translate(_NARROW if keep_width else ASCII_TABLE)
    if text.isascii():
        return text
    from rich.cells import cell_len

    return "".join(ch if ch.isascii() else "?" * cell_len(ch) for ch in text)


def locale_is_utf8(env: Mapping[str, str] | None = None) -> bool | None:
    """Whether the user's locale asks for UTF-8: the codeset of the first of ``LC_ALL``, ``LC_CTYPE``,
    ``LANG`` that is set (POSIX locale precedence). None when none is set (unknown).

    Python's UTF-8 mode and its C-locale coercion (PEP 538/540) make ``sys.stdout.encoding`` UTF-8
    even under ``LANG=C``, so the environment is the only honest witness: a coerced ``LC_CTYPE=C.UTF-8``
    next to an explicit ``LANG=C``/``POSIX`` is read as the C locale."""
    env = os.environ if env is None else env
    lc_all, lc_ctype, lang = (env.get(k, "") for k in ("LC_ALL", "LC_CTYPE", "LANG"))
    if lc_all:
        value = lc_all
    elif lc_ctype and not (lc_ctype == "C.UTF-8" and lang in ("C", "POSIX")):
        value = lc_ctype
    elif lang:
        value = lang
    else:
        return None
    codeset = value.split(".", 1)[1] if "." in value else ""
    codeset = codeset.split("@", 1)[0].lower().replace("-", "").replace("_", "")
    return codeset == "utf8"


def ago(seconds: float) -> str:
    """Compact age: ``3s``, ``5m``, ``2h``, ``4d`` (``-`` when unknown)."""
    if not math.isfinite(seconds):
        return "-"
    s = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"
