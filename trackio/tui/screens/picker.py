"""Pickers: the project picker (start screen) and the metric picker (x axis)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...store.reader import list_projects
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
    """Lists the projects of the data directory, live (a project created meanwhile appears); Enter
    opens one, Esc goes back to the project that was open."""

    BINDINGS = bindings("picker")

    def __init__(self, projects: list[str]):
        super().__init__()
        self.projects = projects

    def compose(self) -> ComposeResult:
        yield Static("", id="header")
        ol = OptionList(id="projects")
        ol.border_title = "Choose a project (Enter)"
        yield ol
        yield Static("No trackio projects found here yet. Log one with trackio.init(...) / trackio.log(...); "
                     "it appears here.", id="empty")
        yield Footer()

    def on_mount(self) -> None:
        self._show(self.projects, force=True)
        self.set_interval(self.app.interval, self._scan)

    @work(thread=True, exclusive=True, group="projects", exit_on_error=False)
    def _scan(self) -> None:
        """List the data directory in a worker thread (never on the UI thread after start-up)."""
        found = list_projects(self.app.directory)
        self.app.call_from_thread(self._show, found)

    def _show(self, projects: list[str], force: bool = False) -> None:
        if projects == self.projects and not force:
            return
        try:
            ol = self.query_one("#projects", OptionList)
        except NoMatches:  # opened while the app quits (q then o): nothing to show
            return
        current = self.projects[ol.highlighted] if ol.highlighted is not None and ol.highlighted < len(self.projects) else None
        self.projects = projects
        ol.clear_options()
        ol.add_options([Option(self.app.glyphs.text(p), id=str(i)) for i, p in enumerate(projects)])
        if projects:
            ol.highlighted = projects.index(current) if current in projects else 0
        ol.display = bool(projects)
        self.query_one("#empty").display = not projects
        self.query_one("#header", Static).update(self.app.glyphs.text(
            f" trackio · {len(projects)} project(s) in {self.app.directory_label}"))
        if projects and not ol.has_focus:
            ol.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.app.open_project(self.projects[int(event.option.id)])

    def action_back(self) -> None:
        last = self.app.last_project
        if last is not None and last in self.projects:
            self.app.open_project(last)
