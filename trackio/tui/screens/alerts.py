"""All alerts full screen: newest first, level filter, Enter jumps the charts to the alert's step."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, OptionList

from ..keymap import bindings
from ..widgets.panes import AlertsList, HeaderBar


class AlertsScreen(Screen):
    """Alerts of the workspace's project; leaving marks them seen."""

    BINDINGS = bindings("alerts")

    def __init__(self, workspace):
        super().__init__()
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        yield AlertsList(id="all-alerts")
        yield Footer()

    def on_mount(self) -> None:
        al = self.query_one(AlertsList)
        pane = self.workspace.query_one("#alerts", AlertsList)
        al.seen_id, al.min_level = pane.seen_id, pane.min_level
        al.border_subtitle = "Enter: jump to step · L: level filter · Esc: back"
        self.refresh_all()
        al.focus()
        self.set_interval(0.5, self.refresh_all)

    def refresh_all(self) -> None:
        ws = self.workspace
        now = self.app.clock()
        self.query_one(HeaderBar).show(ws.project, ws.new_alerts(), now, ws.error)
        self.query_one(AlertsList).update_alerts(ws.project.alerts, now)

    def action_level(self) -> None:
        al = self.query_one(AlertsList)
        al.min_level = {"info": "warn", "warn": "error", "error": "info"}[al.min_level]
        self.workspace.query_one("#alerts", AlertsList).min_level = al.min_level
        self.refresh_all()

    def action_back(self) -> None:
        self._leave()

    def _leave(self, alert=None) -> None:
        ws = self.workspace
        pane = ws.query_one("#alerts", AlertsList)
        if ws.project.alerts:
            pane.seen_id = max(pane.seen_id, ws.project.alerts[-1].id)
        self.app.pop_screen()
        if alert is not None:
            ws.jump_to_alert(alert)
        else:
            ws.refresh_all()

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        alert = self.query_one(AlertsList).current
        if alert is not None:
            self._leave(alert)
