"""The chart grid: one page of metric charts, rows x columns, with a focused chart."""

from __future__ import annotations

import math
import re

from textual.containers import Grid
from textual.events import Resize

from ..model import Project, View
from ..render import BRAILLE, Glyphs
from .chart import Chart

MAX_SIDE = 4  # at most 4 x 4 charts on a page
CELL = (45, 11)  # smallest comfortable chart, in cells (width, height)
ASPECT = 3.5  # preferred chart width / height in cells (about 2:1 on screen: curves read best wide)


def auto_grid(width: int, height: int, count: int | None = None, rows: int | None = None,
              cols: int | None = None) -> tuple[int, int]:
    """Rows and columns for ``count`` charts on a ``width`` x ``height`` cell area.

    At most as many as keep each chart about 45x11 cells (1..4 each); with fewer charts than that
    holds, the smallest grid that shows them all, nearest to :data:`ASPECT` (2 metrics at 160x48 get
    two wide charts, not 2 of 8 slots). ``rows``/``cols`` fix that side (the user's choice)."""
    width, height = width or 80, height or 22
    rmax = max(1, min(MAX_SIDE, height // CELL[1]))
    cmax = max(1, min(MAX_SIDE, width // CELL[0]))
    rs = [rows] if rows else range(1, rmax + 1)
    cs = [cols] if cols else range(1, cmax + 1)
    need = max(1, count if count is not None else rmax * cmax)

    def cost(rc):
        r, c = rc
        short = max(0, need - r * c)  # charts that do not fit a page
        return (short, r * c, abs(math.log((width / c) / (height / r) / ASPECT)))

    return min(((r, c) for r in rs for c in cs), key=cost)


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
        self.focus_metric: str | None = None  # the focus follows this name when metrics come and go
        self.charts: list[Chart] = []
        self._shape = (0, 0)
        self.focus_run: str | None = None

    def names(self) -> list[str]:
        names = self.project.metric_names(self.system)
        if self.pattern is not None:
            names = [n for n in names if self.pattern.search(n)]
        return names

    def shape(self) -> tuple[int, int]:
        return auto_grid(self.size.width, self.size.height, len(self.names()), self.rows_pref, self.cols_pref)

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
        """Put this page's metrics on the charts; the focus stays on ``focus_metric`` while it is
        listed (turning to its page), else on the nearest slot."""
        if self.shape() != self._shape:
            self.layout_charts()
            return
        names = self.names()
        n = self.per_page
        if self.focus_metric in names:
            i = names.index(self.focus_metric)
            self.page, self.focus_index = divmod(i, n)
        self.page = min(self.page, max(0, (len(names) - 1) // n)) if names else 0
        page = names[self.page * n:(self.page + 1) * n]
        if self.charts:
            self.focus_index = min(self.focus_index, max(0, len(page) - 1))
        self.focus_metric = page[self.focus_index] if page else None
        for i, chart in enumerate(self.charts):
            chart.set_metric(page[i] if i < len(page) else "", self.system)
            show = i < len(page) or i == 0
            if chart.display != show:
                chart.display = show
            chart.focus_run = self.focus_run
            focused = i == self.focus_index and i < len(page)
            if chart.has_class("-focused") != focused:
                chart.set_class(focused, "-focused")

    def focus_at(self, index: int) -> None:
        """Focus the chart in slot ``index`` of this page."""
        page = self.page_names()
        if 0 <= index < len(page):
            self.focus_index, self.focus_metric = index, page[index]
            self.assign()

    def page_names(self) -> list[str]:
        n = self.per_page
        return self.names()[self.page * n:(self.page + 1) * n]

    @property
    def focused(self) -> Chart | None:
        if not self.charts or self.focus_index >= len(self.charts) or not self.charts[self.focus_index].metric:
            return None
        return self.charts[self.focus_index]

    def move(self, dx: int, dy: int) -> None:
        """Move the focus by cells (clamped to this page; ``n``/``p`` turn pages)."""
        rows, cols = self.shape()
        count = len(self.page_names())
        if count:
            r, c = divmod(self.focus_index, cols)
            r, c = min(max(r + dy, 0), rows - 1), min(max(c + dx, 0), cols - 1)
            self.focus_at(min(r * cols + c, count - 1))

    def turn(self, delta: int) -> None:
        self.page = (self.page + delta) % self.pages()
        page = self.page_names()
        self.focus_metric = page[min(self.focus_index, len(page) - 1)] if page else None
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
