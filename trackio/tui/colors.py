"""Colours and marks: a run palette that reads in 256 colours, alert levels, run status.

Every palette entry is an exact xterm-256 colour, so a terminal without truecolour shows the same
hues; with ``NO_COLOR`` Textual drops colour and the charts stay readable by shape and the focused run
is drawn on top.
"""

from __future__ import annotations

from rich.style import Style

PALETTE = ("#5fafff", "#ff8700", "#5fd75f", "#ff5f5f", "#af87ff", "#d7af5f", "#ff87d7", "#87d7d7",
           "#d7d75f", "#afafaf")
AXIS = Style(color="grey50")
LEVEL_STYLE = {"error": Style(color="#ff5f5f", bold=True), "warn": Style(color="#ffaf00"),
               "info": Style(color="#5fafff")}
LEVELS = ("info", "warn", "error")
STATUS_MARK = {"running": ("●", "#5fd75f"), "finished": ("✓", "grey62"), "crashed": ("✗", "#ff5f5f"),
               "unknown": ("?", "grey50")}
ASCII_STATUS = {"running": "*", "finished": "+", "crashed": "x", "unknown": "?"}

_styles = [Style(color=c) for c in PALETTE]


def _darken(hex_colour: str, keep: float = 0.42) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(v * keep + 0x1e * (1 - keep)) for v in (r, g, b)))


_dim_styles = [Style(color=_darken(c)) for c in PALETTE]


PATTERNS = ("solid", "dashed", "dotted")
SWATCH = {"solid": "━━", "dashed": "╍╍", "dotted": "┅┅"}  # ASCII: "==", "--", ".." (text.SYMBOLS)


def run_pattern(index: int) -> str:
    """Line pattern of the run created ``index``-th: the 10 colours repeat, so runs 10-19 are drawn
    dashed and runs 20-29 dotted (then solid again), and their swatches say so."""
    return PATTERNS[(index // len(PALETTE)) % len(PATTERNS)]


def run_swatch(index: int) -> str:
    """Two-cell sample of the run's line (colour it with :func:`run_colour`)."""
    return SWATCH[run_pattern(index)]


def run_colour(index: int) -> str:
    """Stable colour of the run created ``index``-th in the project."""
    return PALETTE[index % len(PALETTE)]


def run_style(index: int) -> Style:
    return _styles[index % len(_styles)]


def run_dim_style(index: int) -> Style:
    """The run's colour darkened toward the background: raw curves behind smoothed ones."""
    return _dim_styles[index % len(_dim_styles)]
