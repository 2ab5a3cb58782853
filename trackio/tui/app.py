"""The Textual application: picks the project, installs screens, holds app-wide settings."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from rich.segment import Segment
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter

from ..store.paths import canon, data_dir
from ..store.reader import list_projects
from .render import ASCII, BRAILLE, Glyphs
from .screens.help import HelpScreen
from .screens.picker import ProjectPicker
from .screens.workspace import WorkspaceScreen
from .text import locale_is_utf8, to_ascii


class AsciiOnly(LineFilter):
    """Makes every rendered line ASCII through the glyph table (:func:`trackio.tui.text.to_ascii`),
    keeping cell widths: Textual's own borders, scrollbars and toasts included."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [seg if seg.text.isascii() else Segment(to_ascii(seg.text, keep_width=True), seg.style, seg.control)
                for seg in segments]


class TrackioApp(App):
    """``trackio tui``. ``clock`` (POSIX seconds) is injectable so tests and screenshots can freeze
    "updated Ns ago"; ``glyphs`` selects braille or the ASCII fallback (ASCII also filters every
    line the app draws, so no Unicode reaches a terminal that cannot show it)."""

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
        self.last_project: str | None = None
        self._ascii = [] if glyphs.braille else [AsciiOnly()]
        # settle_gc only when nothing is frozen yet: a host process that froze objects itself (a
        # pre-forking server, a kernel) keeps its freeze, and release_gc never thaws what we did not freeze.
        self._may_freeze = gc.get_freeze_count() == 0
        self._froze = False

    def settle_gc(self) -> None:
        """Collect, then move every object alive out of the garbage collector's sight
        (``gc.freeze()``), once every run's full history is loaded and painted (earlier, the preview
        data and the messages that carried it, if frozen, could never be freed). A full collection
        then walks only what was made since (about 3,000 objects instead of 80,000): measured at
        160x48 it cut the worst live tick from about 90 ms to 60 ms (full collections from 66 ms to
        13 ms). Skipped when the process had frozen objects before the app started (see
        :meth:`release_gc`)."""
        if self._may_freeze:
            gc.collect()
            gc.freeze()
            self._froze = True

    def release_gc(self) -> None:
        """Undo :meth:`settle_gc` (``gc.unfreeze()``) if it froze anything: a workspace leaving the
        screen calls it, so a project switched away from can be collected, and so does
        :func:`trackio.tui.run_tui` when the app exits, leaving the collector as it was found."""
        if self._froze:
            gc.unfreeze()
            self._froze = False

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), *self._ascii]

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

    def open_project(self, name: str, run: str | None = None) -> None:
        """Show the workspace of project ``name`` (replacing the picker if it is shown). ``--run``
        applies to the project given on the command line only."""
        if run is None and name == self.project_name and self.last_project is None:
            run = self.run_name
        self.last_project = name
        screen = WorkspaceScreen(name, run)
        if isinstance(self.screen, ProjectPicker):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show_projects(self) -> None:
        """Replace the workspace by the project list (its loader stops)."""
        picker = ProjectPicker(list_projects(self.directory))
        if isinstance(self.screen, WorkspaceScreen):
            self.switch_screen(picker)
        else:
            self.push_screen(picker)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def default_glyphs(encoding: str | None, env: Mapping[str, str] | None = None) -> Glyphs:
    """Braille when the locale (``LC_ALL``/``LC_CTYPE``/``LANG``, see
    :func:`trackio.tui.text.locale_is_utf8`) and the terminal encoding both allow UTF-8, else the
    ASCII fallback. An unset locale leaves the choice to the encoding."""
    enc = (encoding or "").lower().replace("-", "").replace("_", "")
    utf8_locale = locale_is_utf8(os.environ if env is None else env)
    return BRAILLE if enc.startswith("utf8") and utf8_locale is not False else ASCII
