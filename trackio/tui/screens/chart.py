"""One chart full screen, sharing the workspace's data and view settings, with a colour legend."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..colors import run_colour, run_swatch
from ..keymap import bindings
from ..widgets.chart import Chart
from ..widgets.panes import HeaderBar
from .actions import ChartActions

MIN_W, MIN_H = 40, 10  # below this a message replaces the chart (and the readout)


class ChartScreen(ChartActions, Screen):
    """Full-screen view of ``metric``; Esc returns to the workspace."""

    BINDINGS = bindings("chart")

    def __init__(self, workspace, metric: str, system: bool):
        super().__init__()
        self.workspace = workspace
        self.project = workspace.project
        self.view = workspace.view
        self.metric = metric
        self.system = system
        self._legend_sig = None

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        chart = Chart(self.project, self.view, self.metric, self.system, glyphs=self.app.glyphs, id="full")
        chart.add_class("-focused", "-full")
        yield chart
        yield Static("", id="legend")
        yield Static("", id="readout")
        yield Static(f"Terminal too small for the chart: needs at least {MIN_W}x{MIN_H}.", id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#readout").display = False
        self._apply_size(self.app.size.width, self.app.size.height)
        self.refresh_all()
        self.set_interval(0.25, self._tick)

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size.width, event.size.height)
        self.refresh_all()

    def _apply_size(self, w: int, h: int) -> None:
        tiny = w < MIN_W or h < MIN_H
        self.query_one("#too-small").display = tiny
        for part in ("#full", "#legend"):
            self.query_one(part).display = not tiny

    def current_chart(self) -> Chart:
        return self.query_one("#full", Chart)

    def _tick(self) -> None:
        chart = self.current_chart()
        chart.focus_run = self.workspace.grid.focus_run
        if chart.changed() or self._legend_sig != self._legend_key():
            self.refresh_all()

    def _legend_key(self) -> tuple:
        return tuple((r.id, r.name, r.id in self.project.hidden, r.metrics.get(self.metric) is not None)
                     for r in self.project.ordered())

    def _legend(self) -> Text:
        """Swatch (colour and line pattern) and name of each run drawn in this chart."""
        g = self.app.glyphs
        t = Text()
        for r in self.project.visible():
            series = (r.system if self.system else r.metrics).get(self.metric)
            if series is None:
                continue
            t.append(g.text(run_swatch(r.index)) + " ", style=run_colour(r.index))
            t.append(g.text(r.name) + "   ")
        return t

    def refresh_all(self) -> None:
        ws = self.workspace
        self.query_one(HeaderBar).show(self.project, ws.new_alerts(), self.app.clock(), ws.error, self.status_text)
        chart = self.current_chart()
        chart.focus_run = ws.grid.focus_run
        chart.sync_titles()
        chart.refresh()
        self._legend_sig = self._legend_key()
        self.query_one("#legend", Static).update(self._legend())
        self.update_readout()
        if self.query_one("#too-small").display:
            self.query_one("#readout").display = False

    def action_move(self, dx: int, dy: int) -> None:
        self.inspect_step(dx)

    def action_back(self) -> None:
        chart = self.current_chart()
        if chart.cursor is not None:
            chart.cursor = None
            self.refresh_all()
            return
        self.app.pop_screen()
        ws = self.workspace
        ws.refresh_all()
