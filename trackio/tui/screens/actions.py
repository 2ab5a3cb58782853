"""Chart actions shared by the workspace and the full-screen chart: x axis, log-Y, smoothing,
zoom and value inspection, and a transient status line in the header (:meth:`ChartActions.flash`,
one message at a time instead of a pile of toasts). The host screen provides ``view``, ``project``,
``current_chart()`` and ``refresh_all()`` (which shows ``status_text`` in its header)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..colors import run_colour, run_swatch
from ..layers import series_of, value_at, x_bounds
from ..render import fmt_num, fmt_when, fmt_x
from ..widgets.chart import axis_mode

SMOOTHING = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)
ZOOM_POINTS = 8  # the narrowest zoom still spans about this many logged points
FLASH_SECONDS = 3.0


class ChartActions:
    """Mixin for a Screen showing charts that share one :class:`~trackio.tui.model.View`."""

    status_text = ""
    _flash_timer = None

    def flash(self, text: str) -> None:
        """Show ``text`` in the header for a few seconds, replacing any earlier one."""
        self.status_text = text
        if self._flash_timer is not None:
            self._flash_timer.stop()
        self._flash_timer = self.set_timer(FLASH_SECONDS, self._flash_done)
        self.refresh_all()

    def _flash_done(self) -> None:
        self.status_text = ""
        self._flash_timer = None
        self.refresh_all()

    def action_xaxis(self) -> None:
        order = ("step", "rel", "time")
        mode = self.view.xmode
        if mode in order[:-1]:
            self._set_xmode(order[order.index(mode) + 1])
            return
        if mode == "time":
            from .picker import MetricPicker

            names = self.project.metric_names(False)
            self.app.push_screen(MetricPicker(names, "X axis: choose a metric (Esc: back to step)"),
                                 lambda name: self._set_xmode(f"metric:{name}" if name else "step"))
            return
        self._set_xmode("step")

    def _set_xmode(self, mode: str) -> None:
        self.view.xmode = mode
        self.view.zoom = self.view.anchor = None
        chart = self.current_chart()
        if chart is not None:
            chart.cursor = None
        self.flash(f"x axis: {_xname(mode)}")

    def action_logy(self) -> None:
        chart = self.current_chart()
        if chart is not None:
            self.view.logy.symmetric_difference_update({chart.metric})
            self.refresh_all()

    def action_smooth(self, delta: int) -> None:
        levels = SMOOTHING
        i = min(range(len(levels)), key=lambda k: abs(levels[k] - self.view.alpha))
        j = min(max(i + delta, 0), len(levels) - 1)
        self.view.alpha = levels[j]
        limit = " (most)" if j == i and delta > 0 else (" (already off)" if j == i else "")
        self.flash(f"smoothing: {'off' if not self.view.alpha else f'EMA {self.view.alpha:g}'}{limit}")

    def action_zoom(self, factor: float) -> None:
        chart = self.current_chart()
        if chart is None:
            return
        win = chart.window_now()
        full = x_bounds(self.project.visible(), chart.metric, self.view, chart.system)
        if win is None or full is None:
            return
        width = (win[1] - win[0]) * factor
        if width >= full[1] - full[0]:
            self.view.zoom = self.view.anchor = None
            self.refresh_all()
            return
        floor = self.zoom_floor(chart, full)
        if width < floor:
            if self.view.zoom is not None and self.view.zoom <= floor:
                self.flash("zoom: at the limit")
                return
            width = floor
        self.view.zoom = width
        self.refresh_all()

    def zoom_floor(self, chart, full: tuple[float, float]) -> float:
        """Narrowest x window worth showing: about :data:`ZOOM_POINTS` logged rows of the longest
        visible run (at least 8 steps on the step axis), never below 1e-9 of the full range. Rows,
        not the chart's own points: the zoom is shared, and a sparse validation chart must not
        forbid zooming into the training curves."""
        n = max(((r.sys_times.n if chart.system else r.ids.n) for r in self.project.visible()
                 if series_of(r, chart.metric, chart.system) is not None), default=1)
        span = full[1] - full[0]
        floor = span / max(n - 1, 1) * ZOOM_POINTS
        if self.view.xmode == "step" and not chart.system:
            floor = max(floor, float(ZOOM_POINTS))
        return min(max(floor, span * 1e-9), span)

    def action_zoom_reset(self) -> None:
        self.view.zoom = self.view.anchor = None
        self.refresh_all()

    def action_inspect(self) -> None:
        chart = self.current_chart()
        if chart is None:
            return
        if chart.cursor is None:
            win = chart.window_now()
            if win is not None:
                chart.cursor = win[1]
        else:
            chart.cursor = None
        self.refresh_all()

    def inspect_step(self, dx: int) -> bool:
        """Move the inspection cursor by ``dx`` chart cells; False when not inspecting."""
        chart = self.current_chart()
        if chart is None or chart.cursor is None or not dx:
            return False
        win = chart.window_now()
        if win is None:
            return False
        cols = max(1, chart.size.width - 10)
        step = (win[1] - win[0]) / cols
        chart.cursor = min(max(chart.cursor + dx * step, win[0]), win[1])
        self.refresh_all()
        return True

    def update_readout(self) -> None:
        """Show the cursor's x and each visible run's nearest value under the charts."""
        box = self.query_one("#readout", Static)
        chart = self.current_chart()
        if chart is None or chart.cursor is None:
            box.display = False
            return
        mode = axis_mode(self.view, chart.system)
        g = self.app.glyphs
        alpha = self.view.alpha
        where = fmt_when if mode == "time" else (lambda v: fmt_x(v, mode))
        t = Text()
        smooth = f" (EMA {alpha:g}; raw in brackets)" if alpha > 0 else ""
        t.append(g.text(f"{chart.metric} @ {_xname(self.view.xmode)} {where(chart.cursor)}{smooth}: "), style="bold")
        for r in self.project.visible():
            hit = value_at(r, chart.metric, self.view, chart.cursor, chart.system, alpha)
            if hit is not None:
                x, raw, drawn = hit
                t.append(g.text(run_swatch(r.index)) + " ", style=run_colour(r.index))
                value = f"{fmt_num(drawn)} [{fmt_num(raw)}]" if alpha > 0 else fmt_num(raw)
                t.append(g.text(f"{r.name} {value} (@{fmt_x(x, mode)})  "))
        box.update(t)
        box.display = True


def _xname(mode: str) -> str:
    return {"step": "step", "rel": "relative time", "time": "wall time"}.get(mode, mode[7:])
