"""One metric chart: several runs overlaid in braille, with axes, smoothing, log-Y and a cursor.

The widget uses Textual's line API. The whole chart is rasterised once per *key* (data versions of
the drawn series, view settings, size, cursor) and cached as strips, so a repaint with nothing new
costs nothing and a tick redraws only the charts whose series changed.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from ..colors import AXIS, run_dim_style, run_style
from ..layers import layer, series_of, value_at, window, x_bounds
from ..model import Project, View
from ..render import BRAILLE, Glyphs, compose, fmt_axis, fmt_x, pack, raster, y_range


GUTTER = 9  # y labels (8 characters) and the axis line


class Chart(Widget):
    """Chart of ``metric`` (a system metric when ``system``) for the project's visible runs."""

    DEFAULT_CSS = """
    Chart { border: round $panel-lighten-2; height: 1fr; width: 1fr; border-title-color: $text; }
    Chart.-focused { border: round $accent; border-title-style: bold; }
    """

    def __init__(self, project: Project, view: View, metric: str = "", system: bool = False,
                 glyphs: Glyphs = BRAILLE, **kw):
        super().__init__(**kw)
        self.project = project
        self.view = view
        self.metric = metric
        self.system = system
        self.glyphs = glyphs
        self.focus_run: str | None = None
        self.cursor: float | None = None  # inspected x (axis units), or None
        self._key = None
        self._strips: list[Strip] = []
        self.readout: list[tuple[str, int, float]] = []  # (run name, run index, value) at the cursor

    # -- data ------------------------------------------------------------------------------------
    def set_metric(self, metric: str, system: bool = False) -> None:
        if (metric, system) != (self.metric, self.system):
            self.metric, self.system = metric, system
            self.cursor = None
            self.refresh()

    def key(self) -> tuple:
        runs = self.project.visible()
        vers = tuple((r.id, getattr(series_of(r, self.metric, self.system), "version", -1), r.exact) for r in runs)
        v = self.view
        return (self.metric, self.system, vers, v.xmode, v.alpha, v.zoom, v.anchor, self.metric in v.logy,
                self.size, self.focus_run, self.cursor, self.has_class("-focused"))

    def changed(self) -> bool:
        """True when the cached drawing is stale (new data or settings); the grid refreshes then."""
        return self.key() != self._key

    def render_lines(self, crop):
        k = self.key()  # once per paint, not once per line
        if k != self._key:
            self._strips = self._draw()
            self._key = k
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if self._key is None:
            self._strips, self._key = self._draw(), self.key()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width)

    # -- drawing ---------------------------------------------------------------------------------
    def sync_titles(self) -> None:
        """Set the border title (metric) and subtitle (log, smoothing, zoom, preview flags).

        Called before a refresh, never from ``render_line``: changing widget state while rendering
        would show one frame late."""
        self.border_title = self.metric or ""
        flags = []
        if self.metric in self.view.logy:
            flags.append("log")
        if self.view.alpha > 0:
            flags.append(f"ema {self.view.alpha:g}")
        if self.view.zoom is not None:
            flags.append("zoom")
        if any(not r.exact for r in self.project.visible()):
            flags.append("≈")
        self.border_subtitle = " ".join(flags)

    def _draw(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        if w < 8 or h < 3 or not self.metric:
            return []
        runs = self.project.visible()
        bounds = x_bounds(runs, self.metric, self.view, self.system)
        if bounds is None:
            return [Strip([Segment("no data".center(w)[:w], AXIS)])] + [Strip.blank(w)] * (h - 1)
        xr = window(bounds, self.view)
        log = self.metric in self.view.logy
        # First pass with a provisional gutter to learn the y range, then lay out the axes.
        gutter = GUTTER
        pc, pr = max(1, w - gutter), max(1, h - 1)
        ncols, nrows = pc * self.glyphs.gx, pr * self.glyphs.gy
        order = sorted(runs, key=lambda r: (r.id == self.focus_run, r.index))
        layers, styles = [], []
        smooth = self.view.alpha > 0
        for r in order:
            if smooth:
                layers.append(layer(r, self.metric, self.view, xr, ncols, self.system, alpha=0.0))
                styles.append(run_dim_style(r.index))
        for r in order:
            layers.append(layer(r, self.metric, self.view, xr, ncols, self.system))
            styles.append(run_style(r.index))
        yr = y_range(layers, log)
        if yr is None:
            return [Strip([Segment("no finite values".center(w)[:w], AXIS)])] + [Strip.blank(w)] * (h - 1)
        codes = [pack(raster(b, ncols, nrows, yr, log), self.glyphs) for b in layers]
        cell, owner = compose(codes)
        labels = self._ylabels(yr, pr, log)
        cur_col = None
        self.readout = []
        if self.cursor is not None and xr[1] > xr[0]:
            cur_col = int((self.cursor - xr[0]) / (xr[1] - xr[0]) * pc)
            cur_col = min(max(cur_col, 0), pc - 1)
            for r in order:
                hit = value_at(r, self.metric, self.view, self.cursor, self.system)
                if hit is not None:
                    self.readout.append((r.name, r.index, hit[1]))
        strips = []
        for row in range(pr):
            segs = [Segment(labels[row].rjust(gutter - 1)[: gutter - 1] + "┤" if labels[row] else " " * (gutter - 1) + "│", AXIS)]
            segs.extend(self._row_segments(cell[row], owner[row], styles, cur_col))
            strips.append(Strip(segs, w))
        strips.append(Strip([Segment(self._xaxis(xr, pc, gutter, w), AXIS)], w))
        return strips

    def _row_segments(self, codes, owners, styles, cur_col) -> list[Segment]:
        segs: list[Segment] = []
        g = self.glyphs
        run_text: list[str] = []
        run_owner = None
        blank = Style()
        cursor_style = Style(bgcolor="grey23")
        for c, (code, o) in enumerate(zip(codes.tolist(), owners.tolist())):
            if c == cur_col:
                if run_text:
                    segs.append(Segment("".join(run_text), styles[run_owner] if run_owner >= 0 else blank))
                    run_text = []
                st = (styles[o] if o >= 0 else blank) + cursor_style
                segs.append(Segment(g.char(code) if code else "│", st))
                run_owner = None
                continue
            if o != run_owner and run_text:
                segs.append(Segment("".join(run_text), styles[run_owner] if run_owner >= 0 else blank))
                run_text = []
            run_owner = o
            run_text.append(g.char(code) if code else (g.char(0) if g.braille else " "))
        if run_text:
            segs.append(Segment("".join(run_text), styles[run_owner] if run_owner >= 0 else blank))
        return segs

    def _ylabels(self, yr, pr, log) -> list[str]:
        labels = [""] * pr
        lo, hi = yr
        if pr == 1:
            labels[0] = fmt_axis(10 ** hi if log else hi)
            return labels
        picks = {0: hi, pr - 1: lo}
        if pr >= 5:
            picks[(pr - 1) // 2] = (hi + lo) / 2
        for row, v in picks.items():
            labels[row] = fmt_axis(10 ** v if log else v)
        return labels

    def _xaxis(self, xr, pc, gutter, w) -> str:
        mode = "step" if self.view.xmode == "step" else ("rel" if self.view.xmode == "rel" else
                                                            ("time" if self.view.xmode == "time" else "num"))
        if self.system and mode == "step":
            mode = "time"
        left, right = fmt_x(xr[0], mode), fmt_x(xr[1], mode)
        line = [" "] * w
        line[gutter - 1] = "└"
        for i, ch in enumerate(left):
            if gutter + i < w:
                line[gutter + i] = ch
        for i, ch in enumerate(right):
            p = w - len(right) + i
            if p >= gutter + len(left) + 1:
                line[p] = ch
        if pc > 30:
            mid = fmt_x((xr[0] + xr[1]) / 2, mode)
            start = gutter + pc // 2 - len(mid) // 2
            if start > gutter + len(left) + 1 and start + len(mid) < w - len(right) - 1:
                line[start:start + len(mid)] = list(mid)
        return "".join(line)[:w]

    # -- interaction -----------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        """Click: focus this chart (in a grid); while inspecting, move the cursor under the pointer."""
        grid = self.parent
        if hasattr(grid, "charts") and self in grid.charts:
            grid.focus_index = grid.charts.index(self)
            grid.assign()
        offset = event.get_content_offset(self)
        if self.cursor is not None and offset is not None:
            x = self.x_at(offset.x)
            if x is not None:
                self.cursor = x
        refresh = getattr(self.screen, "refresh_all", None)
        if refresh is not None:
            refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(0.8)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(1.25)

    def _wheel(self, factor: float) -> None:
        zoom = getattr(self.screen, "action_zoom", None)
        if zoom is not None and self.metric:
            grid = self.parent
            if hasattr(grid, "charts") and self in grid.charts and grid.focused is not self:
                grid.focus_index = grid.charts.index(self)
                grid.assign()
            zoom(factor)

    def x_at(self, col: int) -> float | None:
        """Axis x under cell column ``col`` of the widget (content coordinates), or None."""
        runs = self.project.visible()
        bounds = x_bounds(runs, self.metric, self.view, self.system)
        if bounds is None:
            return None
        xr = window(bounds, self.view)
        pc = max(1, self.size.width - GUTTER)
        c = min(max(col - GUTTER, 0), pc - 1)
        return xr[0] + (c + 0.5) / pc * (xr[1] - xr[0])

    def window_now(self) -> tuple[float, float] | None:
        bounds = x_bounds(self.project.visible(), self.metric, self.view, self.system)
        return None if bounds is None else window(bounds, self.view)

