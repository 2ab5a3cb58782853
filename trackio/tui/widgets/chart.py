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

from ..colors import AXIS, run_dim_style, run_pattern, run_style
from ..layers import layer, series_of, window, x_bounds
from ..model import Project, View
from ..render import (BRAILLE, Glyphs, compose, dash, fmt_axis, fmt_x, pack, raster, tick_values,
                      y_range)

GUTTER = 9  # y labels (8 characters) and the axis line
BLANK = Style()  # every segment carries a style: Textual's NO_COLOR filter cannot take None
CURSOR = Style(bgcolor="grey23", reverse=False)


def axis_mode(view: View, system: bool) -> str:
    """How x labels are written: ``step``, ``rel``, ``time`` or ``num`` (a metric as x axis)."""
    if view.xmode.startswith("metric:"):
        return "num"
    return "time" if system and view.xmode == "step" else view.xmode


class Chart(Widget):
    """Chart of ``metric`` (a system metric when ``system``) for the project's visible runs."""

    DEFAULT_CSS = """
    Chart { border: round $panel-lighten-2; height: 1fr; width: 1fr; border-title-color: $text; }
    Chart.-focused { border: round $accent 40%; border-title-style: bold; }
    ChartGrid:focus > Chart.-focused, Chart.-full { border: round $accent; }
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
        self.sync_titles()

    # -- data ------------------------------------------------------------------------------------
    def set_metric(self, metric: str, system: bool = False) -> None:
        if (metric, system) != (self.metric, self.system):
            self.metric, self.system = metric, system
            self.cursor = None
            self.sync_titles()
            self.refresh()

    def key(self) -> tuple:
        runs = self.project.visible()
        vers = tuple((r.id, getattr(series_of(r, self.metric, self.system), "version", -1), r.exact) for r in runs)
        v = self.view
        return (self.metric, self.system, vers, v.xmode, v.alpha, v.zoom, v.anchor, self.metric in v.logy,
                self.size, self.focus_run, self.cursor)

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
        return Strip.blank(self.size.width, BLANK)

    # -- drawing ---------------------------------------------------------------------------------
    def sync_titles(self) -> None:
        """Set the border title (metric) and subtitle (log, smoothing, zoom, preview flags).

        Called whenever the metric or the view changes, never from ``render_line``: changing widget
        state while rendering would show one frame late."""
        flags = []
        if self.metric in self.view.logy:
            flags.append("log")
            if any((s := series_of(r, self.metric, self.system)) is not None and s.lo <= 0
                   for r in self.project.visible()):
                flags.append("≤0 hidden")
        if self.view.alpha > 0:
            flags.append(f"ema {self.view.alpha:g}")
        if self.view.zoom is not None:
            flags.append("zoom")
        if any(not r.exact for r in self.project.visible()):
            flags.append("≈")
        title, sub = self.glyphs.text(self.metric or ""), self.glyphs.text(" ".join(flags))
        if self.border_title != title:
            self.border_title = title
        if self.border_subtitle != sub:
            self.border_subtitle = sub

    def _message(self, text: str, w: int, h: int) -> list[Strip]:
        lines = [Strip([Segment(self.glyphs.text(text).center(w)[:w], AXIS)], w)]
        return lines + [Strip.blank(w, BLANK)] * (h - 1)

    def _draw(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        if w < 8 or h < 3 or not self.metric:
            return [Strip.blank(w, BLANK)] * h
        runs = self.project.visible()
        bounds = x_bounds(runs, self.metric, self.view, self.system)
        if bounds is None:
            return self._message("no data", w, h)
        xr = window(bounds, self.view)
        log = self.metric in self.view.logy
        gutter = GUTTER
        pc, pr = max(1, w - gutter), max(1, h - 1)
        g = self.glyphs
        ncols, nrows = pc * g.gx, pr * g.gy
        order = sorted(runs, key=lambda r: (r.id == self.focus_run, r.index))
        layers, styles, patterns = [], [], []
        if self.view.alpha > 0:  # raw curves dimmed behind the smoothed ones
            for r in order:
                layers.append(layer(r, self.metric, self.view, xr, ncols, self.system, alpha=0.0))
                styles.append(run_dim_style(r.index))
                patterns.append(run_pattern(r.index))
        for r in order:
            layers.append(layer(r, self.metric, self.view, xr, ncols, self.system))
            styles.append(run_style(r.index))
            patterns.append(run_pattern(r.index))
        yr = y_range(layers, log)
        if yr is None:
            if log and y_range(layers, False) is not None:
                return self._message("no positive values for a log scale (y: linear)", w, h)
            return self._message("no finite values", w, h)
        codes = [pack(dash(raster(b, ncols, nrows, yr, log), pat, g.gx), g) for b, pat in zip(layers, patterns)]
        cell, owner = compose(codes)
        labels = self._ylabels(yr, pr, log)
        cur_col = None
        if self.cursor is not None and xr[1] > xr[0]:
            cur_col = int((self.cursor - xr[0]) / (xr[1] - xr[0]) * pc)
            cur_col = min(max(cur_col, 0), pc - 1)
        tick, axis = g.text("┤"), g.text("│")
        strips = []
        for row in range(pr):
            label = labels[row]
            segs = [Segment(label.rjust(gutter - 1)[: gutter - 1] + tick if label else " " * (gutter - 1) + axis, AXIS)]
            segs.extend(self._row_segments(cell[row], owner[row], styles, cur_col))
            strips.append(Strip(segs, w))
        strips.append(Strip([Segment(self._xaxis(xr, pc, gutter, w), AXIS)], w))
        return strips

    def _row_segments(self, codes, owners, styles, cur_col) -> list[Segment]:
        segs: list[Segment] = []
        g = self.glyphs
        empty = g.char(0) if g.braille else " "
        run_text: list[str] = []
        run_owner = None
        for c, (code, o) in enumerate(zip(codes.tolist(), owners.tolist())):
            if c == cur_col:
                if run_text:
                    segs.append(Segment("".join(run_text), styles[run_owner] if run_owner >= 0 else BLANK))
                    run_text = []
                st = (styles[o] if o >= 0 else BLANK) + CURSOR
                segs.append(Segment(g.char(code) if code else g.text("│"), st))
                run_owner = None
                continue
            if o != run_owner and run_text:
                segs.append(Segment("".join(run_text), styles[run_owner] if run_owner >= 0 else BLANK))
                run_text = []
            run_owner = o
            run_text.append(g.char(code) if code else empty)
        if run_text:
            segs.append(Segment("".join(run_text), styles[run_owner] if run_owner >= 0 else BLANK))
        return segs

    def _ylabels(self, yr, pr, log) -> list[str]:
        labels = [""] * pr
        for row, v in tick_values(yr[0], yr[1], pr).items():
            labels[row] = fmt_axis(10 ** v if log else v)
        return labels

    def _xaxis(self, xr, pc, gutter, w) -> str:
        mode = axis_mode(self.view, self.system)
        span = xr[1] - xr[0]
        left, right = fmt_x(xr[0], mode, span), fmt_x(xr[1], mode, span)
        line = [" "] * w
        line[gutter - 1] = self.glyphs.text("└")
        for i, ch in enumerate(left):
            if gutter + i < w:
                line[gutter + i] = ch
        for i, ch in enumerate(right):
            p = w - len(right) + i
            if p >= gutter + len(left) + 1:
                line[p] = ch
        if pc > 30:
            mid = fmt_x(xr[0] * 0.5 + xr[1] * 0.5, mode, span)
            start = gutter + pc // 2 - len(mid) // 2
            if mid not in (left, right) and start > gutter + len(left) + 1 and start + len(mid) < w - len(right) - 1:
                line[start:start + len(mid)] = list(mid)
        return "".join(line)[:w]

    # -- interaction -----------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        """Click: focus this chart (in a grid); while inspecting, move the cursor under the pointer."""
        grid = self.parent
        if hasattr(grid, "charts") and self in grid.charts:
            grid.focus_at(grid.charts.index(self))
            grid.focus()
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
                grid.focus_at(grid.charts.index(self))
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

