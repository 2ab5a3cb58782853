"""The chart grid: one page of metric charts, rows x columns, with a focused chart."""

from __future__ import annotations

import re

from textual.containers import Grid
from textual.events import Resize

from ..model import Project, View
from ..render import BRAILLE, Glyphs
from .chart import Chart


def auto_grid(width: int, height: int) -> tuple[int, int]:
    """Rows and columns that keep each chart at least ~45x11 cells (1..4 each)."""
    return max(1, min(4, height // 11)), max(1, min(4, width // 45))


class ChartGrid(Grid):
    """Pages through the project's metric names (filtered by ``pattern``) as a grid of charts."""

    DEFAULT_CSS = "ChartGrid { grid-gutter: 0; height: 1fr; width: 1fr; }"
    can_focus = True

    def __init__(self, project: Project, view: View, glyphs: Glyphs = BRAILLE, **kw):
        super().__init__(**kw)
        self.project = project
        self.view = view
        self.glyphs = glyphs
        self.system = False
        self.pattern: re.Pattern | None = None
        self.rows_pref: int | None = None  # None = automatic
        self.cols_pref: int | None = None
        self.page = 0
        self.focus_index = 0
        self.charts: list[Chart] = []
        self._shape = (0, 0)
        self.focus_run: str | None = None

    def names(self) -> list[str]:
        names = self.project.metric_names(self.system)
        if self.pattern is not None:
            names = [n for n in names if self.pattern.search(n)]
        return names

    def shape(self) -> tuple[int, int]:
        r, c = auto_grid(self.size.width or 80, self.size.height or 22)
        return self.rows_pref or r, self.cols_pref or c

    @property
    def per_page(self) -> int:
        r, c = self.shape()
        return r * c

    def pages(self) -> int:
        return max(1, -(-len(self.names()) // self.per_page))

    def on_resize(self, event: Resize) -> None:
        self.layout_charts()

    def layout_charts(self) -> None:
        """Create or reuse chart widgets for the current shape and assign this page's metrics."""
        rows, cols = self.shape()
        if (rows, cols) != self._shape:
            self._shape = (rows, cols)
            self.styles.grid_size_columns = cols
            self.styles.grid_size_rows = rows
            for c in self.charts:
                c.remove()
            self.charts = [Chart(self.project, self.view, glyphs=self.glyphs) for _ in range(rows * cols)]
            self.mount_all(self.charts)
        self.assign()

    def assign(self) -> None:
        names = self.names()
        n = self.per_page
        self.page = min(self.page, max(0, (len(names) - 1) // n)) if names else 0
        page = names[self.page * n:(self.page + 1) * n]
        if self.charts:
            self.focus_index = min(self.focus_index, max(0, len(page) - 1))
        for i, chart in enumerate(self.charts):
            chart.set_metric(page[i] if i < len(page) else "", self.system)
            show = i < len(page) or i == 0
            if chart.display != show:
                chart.display = show
            chart.focus_run = self.focus_run
            focused = i == self.focus_index and i < len(page)
            if chart.has_class("-focused") != focused:
                chart.set_class(focused, "-focused")

    def page_names(self) -> list[str]:
        n = self.per_page
        return self.names()[self.page * n:(self.page + 1) * n]

    @property
    def focused(self) -> Chart | None:
        if not self.charts or not self.charts[self.focus_index].metric:
            return None
        return self.charts[self.focus_index]

    def move(self, dx: int, dy: int) -> None:
        """Move the focus by cells (clamped to this page; ``n``/``p`` turn pages)."""
        rows, cols = self.shape()
        count = len(self.names()[self.page * self.per_page:(self.page + 1) * self.per_page])
        if count:
            r, c = divmod(self.focus_index, cols)
            r, c = min(max(r + dy, 0), rows - 1), min(max(c + dx, 0), cols - 1)
            self.focus_index = min(r * cols + c, count - 1)
            self.assign()

    def turn(self, delta: int) -> None:
        self.page = (self.page + delta) % self.pages()
        self.assign()

    def redraw_changed(self) -> int:
        """Refresh only the visible charts whose drawing is stale; returns how many."""
        n = 0
        for chart in self.charts:
            chart.focus_run = self.focus_run
            chart.sync_titles()
            if chart.display and chart.metric and chart.changed():
                chart.refresh()
                n += 1
        return n
