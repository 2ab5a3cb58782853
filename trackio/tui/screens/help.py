"""Help: every key binding, generated from the same table that drives dispatch."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keymap import help_rows


class HelpScreen(ModalScreen):
    """Modal list of keys; Esc, q or ? closes it."""

    BINDINGS = [("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                  border: round $accent; background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
        table.add_column(style="bold #ff8700", no_wrap=True)
        table.add_column()
        g = self.app.glyphs
        for keys, text in help_rows():
            table.add_row(g.text(keys), g.text(text))
        with VerticalScroll() as v:
            v.border_title = g.text("trackio · keys")
            v.border_subtitle = "mouse: click a chart to focus it, wheel to zoom, click a run to show/hide it"
            yield Static(table)

    def action_dismiss(self) -> None:
        self.dismiss()
