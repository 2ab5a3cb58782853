"""Pickers: the project picker (start screen) and the metric picker (x axis)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ..keymap import bindings


class MetricPicker(ModalScreen):
    """Choose one name from ``names``; dismisses with the name, or None on Esc."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    MetricPicker { align: center middle; }
    MetricPicker > OptionList { width: 60; max-width: 100%; height: auto; max-height: 80%; border: round $accent; }
    """

    def __init__(self, names: list[str], title: str):
        super().__init__()
        self.names = names
        self.title_text = title

    def compose(self) -> ComposeResult:
        ol = OptionList(*[Option(n, id=str(i)) for i, n in enumerate(self.names)])
        ol.border_title = self.title_text
        yield ol

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[int(event.option.id)])

    def action_cancel(self) -> None:
        self.dismiss(None)


class ProjectPicker(Screen):
    """Lists the projects of the data directory; Enter opens one."""

    BINDINGS = bindings("picker")

    def __init__(self, projects: list[str]):
        super().__init__()
        self.projects = projects

    def compose(self) -> ComposeResult:
        yield Static(f" trackio · {len(self.projects)} project(s) in {self.app.directory_label}", id="header")
        if self.projects:
            ol = OptionList(*[Option(p, id=str(i)) for i, p in enumerate(self.projects)], id="projects")
            ol.border_title = "Choose a project (Enter)"
            yield ol
        else:
            yield Static("No trackio projects found here. Log one with trackio.init(...) / trackio.log(...).",
                         id="empty")
        yield Footer()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.app.open_project(self.projects[int(event.option.id)])

    def action_back(self) -> None:
        pass
