"""The one key-binding table: it builds every screen's Textual ``BINDINGS`` and the help screen.

Only keys that terminals pass through (letters, digits, punctuation, arrows, PgUp/PgDn, Home/End,
Tab, Enter, Esc) are used, so the dashboard works the same over SSH, in tmux and in a plain console.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding


class Key(NamedTuple):
    """One binding: ``keys`` (comma-separated Textual key names), the action, help text, the screens
    it applies to (``*`` = all), and whether the footer shows it."""

    keys: str
    action: str
    help: str
    scope: str = "workspace"
    footer: bool | str = False  # True, or the comma-separated scopes whose footer shows it
    label: str = ""
    short: str = ""


KEYMAP: tuple[Key, ...] = (
    Key("q", "app.quit", "Quit", "*", True, short="Quit"),
    Key("question_mark", "app.help", "Help: this list of keys", "*", True, "?", short="Help"),
    Key("escape", "back", "Back / close / clear the cursor (workspace: then the project list)", "*", "alerts,chart", "Esc", "Back"),
    Key("o", "projects", "Open another project (the project list)", "workspace", False),
    Key("slash", "filter", "Filter metrics by regular expression", "workspace", True, "/", short="Filter"),
    Key("up,k", "move(0,-1)", "Focus the chart above (moves the cursor run in lists)", "workspace", False, "↑/k"),
    Key("down,j", "move(0,1)", "Focus the chart below", "workspace", False, "↓/j"),
    Key("left,h", "move(-1,0)", "Focus the chart to the left (inspect: move the cursor)", "chart", False, "←/h"),
    Key("right,l", "move(1,0)", "Focus the chart to the right (inspect: move the cursor)", "chart", False, "→/l"),
    Key("pagedown,n", "page(1)", "Next page of charts", "workspace", True, "n", short="Page"),
    Key("pageup,p", "page(-1)", "Previous page of charts", "workspace", False, "p"),
    Key("f,enter", "fullscreen", "Show the focused chart full screen (Enter in a list: select)", "workspace", True, "f", short="Full screen"),
    Key("x", "xaxis", "X axis: step → relative time → wall time (local) → a metric", "chart", True, short="X axis"),
    Key("y", "logy", "Toggle log scale of the Y axis (focused chart)", "chart", False),
    Key("s", "smooth(1)", "More smoothing (debiased EMA, raw curve dimmed behind)", "chart", True, short="Smooth"),
    Key("S", "smooth(-1)", "Less smoothing (0 = off)", "chart", False),
    Key("z", "zoom(0.5)", "Zoom in: show the last half of the window", "chart", True, short="Zoom"),
    Key("Z", "zoom(2)", "Zoom out", "chart", False),
    Key("0,home", "zoom_reset", "Full history (undo zoom and alert jumps)", "chart", False, "0"),
    Key("i", "inspect", "Inspect values: a cursor with each run's value", "chart", True, short="Inspect"),
    Key("m", "system", "Switch between metrics and system metrics (CPU/GPU/memory)", "workspace", True, short="System"),
    Key("a", "alerts", "Alerts: newest first, filter by level, jump to step", "workspace", True, short="Alerts"),
    Key("L", "level", "Cycle the alert level filter (all → warn+ → error)", "*", "alerts", short="Level"),
    Key("space", "toggle_run", "Show/hide the highlighted run (runs list)", "workspace", False),
    Key("tab", "app.focus_next", "Move keyboard focus: charts → overview → alerts → runs", "workspace", False),
    Key("r", "grid_rows", "Grid rows: cycle 1-4 (auto first)", "workspace", False),
    Key("c", "grid_cols", "Grid columns: cycle 1-4 (auto first)", "workspace", False),
    Key("left_square_bracket", "sidebar('left')", "Show/hide the runs sidebar", "workspace", False, "["),
    Key("right_square_bracket", "sidebar('right')", "Show/hide the overview/alerts sidebar", "workspace", False, "]"),
)


def bindings(scope: str) -> list[Binding]:
    """Textual bindings of the table entries that apply to ``scope`` (``chart`` ones apply to the
    workspace and the full-screen chart)."""
    out = []
    for k in KEYMAP:
        if k.scope == "*" or k.scope == scope or (k.scope == "chart" and scope in ("workspace", "chart")):
            show = k.footer is True or (isinstance(k.footer, str) and scope in k.footer.split(","))
            out.append(Binding(k.keys, k.action, k.short or k.help, show=show, key_display=k.label or None))
    return out


KEY_NAMES = {"up": "↑", "down": "↓", "left": "←", "right": "→", "pagedown": "PgDn", "pageup": "PgUp",
             "home": "Home", "end": "End", "enter": "Enter", "escape": "Esc", "tab": "Tab", "space": "Space",
             "slash": "/", "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}


def key_name(key: str) -> str:
    """How a Textual key name is written for people (``pagedown`` → ``PgDn``)."""
    return KEY_NAMES.get(key, key)


def help_rows() -> list[tuple[str, str]]:
    """(every key of the entry, as written for people; help text) for every entry, in table order.
    The footer shows one short label per entry; help lists all alternatives (Enter, PgDn, Home...)."""
    return [(" / ".join(key_name(k) for k in entry.keys.split(",")), entry.help) for entry in KEYMAP]
