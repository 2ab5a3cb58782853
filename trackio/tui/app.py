"""The Textual application: picks the project, installs screens, holds app-wide settings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from textual.app import App

from ..store.paths import canon, data_dir
from ..store.reader import list_projects
from .render import ASCII, BRAILLE, Glyphs
from .screens.help import HelpScreen
from .screens.picker import ProjectPicker
from .screens.workspace import WorkspaceScreen


class TrackioApp(App):
    """``trackio tui``. ``clock`` (POSIX seconds) is injectable so tests and screenshots can freeze
    "updated Ns ago"; ``glyphs`` selects braille or the ASCII fallback."""

    CSS_PATH = "app.tcss"
    TITLE = "trackio"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, project: str | None = None, run: str | None = None, interval: float = 1.0,
                 directory: Path | None = None, clock: Callable[[], float] | None = None,
                 glyphs: Glyphs = BRAILLE):
        super().__init__()
        self.project_name = project
        self.run_name = run
        self.interval = max(0.25, float(interval))
        self.directory = Path(directory) if directory is not None else data_dir()
        self.directory_label = str(self.directory)
        self.clock = clock or time.time
        self.glyphs = glyphs

    def on_mount(self) -> None:
        projects = list_projects(self.directory)
        if self.project_name is not None:
            if canon(self.project_name) in projects:
                self.open_project(self.project_name)
                return
            self.notify(f"Project '{self.project_name}' not found.", severity="error", timeout=10)
        if len(projects) == 1 and self.project_name is None:
            self.open_project(projects[0])
            return
        self.push_screen(ProjectPicker(projects))

    def open_project(self, name: str) -> None:
        """Show the workspace of project ``name`` (replacing the picker if it is shown)."""
        screen = WorkspaceScreen(name, self.run_name)
        if isinstance(self.screen, ProjectPicker):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def default_glyphs(encoding: str | None) -> Glyphs:
    """Braille when the terminal encoding is UTF-8, else the ASCII fallback."""
    enc = (encoding or "").lower().replace("-", "").replace("_", "")
    return BRAILLE if enc.startswith("utf8") else ASCII
