"""One chart full screen, sharing the workspace's data and view settings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..keymap import bindings
from ..widgets.chart import Chart
from ..widgets.panes import HeaderBar
from .actions import ChartActions


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

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        chart = Chart(self.project, self.view, self.metric, self.system, glyphs=self.app.glyphs, id="full")
        chart.add_class("-focused")
        yield chart
        yield Static("", id="readout")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#readout").display = False
        self.refresh_all()
        self.set_interval(0.25, self._tick)

    def current_chart(self) -> Chart:
        return self.query_one("#full", Chart)

    def _tick(self) -> None:
        chart = self.current_chart()
        chart.focus_run = self.workspace.grid.focus_run
        if chart.changed():
            self.refresh_all()

    def refresh_all(self) -> None:
        ws = self.workspace
        self.query_one(HeaderBar).show(self.project, ws.new_alerts(), self.app.clock(), ws.error)
        chart = self.current_chart()
        chart.focus_run = ws.grid.focus_run
        chart.sync_titles()
        chart.refresh()
        self.update_readout()

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
