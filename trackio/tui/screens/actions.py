"""Chart actions shared by the workspace and the full-screen chart: x axis, log-Y, smoothing,
zoom and value inspection. The host screen provides ``view``, ``project``, ``current_chart()``,
``metric_system()`` and ``refresh_all()``."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..colors import run_colour
from ..layers import value_at, x_bounds
from ..render import fmt_num, fmt_x

SMOOTHING = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)


class ChartActions:
    """Mixin for a Screen showing charts that share one :class:`~trackio.tui.model.View`."""

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
        self.notify(f"x axis: {_xname(mode)}", timeout=2)
        self.refresh_all()

    def action_logy(self) -> None:
        chart = self.current_chart()
        if chart is not None:
            self.view.logy.symmetric_difference_update({chart.metric})
            self.refresh_all()

    def action_smooth(self, delta: int) -> None:
        levels = SMOOTHING
        i = min(range(len(levels)), key=lambda k: abs(levels[k] - self.view.alpha))
        self.view.alpha = levels[min(max(i + delta, 0), len(levels) - 1)]
        self.notify(f"smoothing: {'off' if not self.view.alpha else f'EMA {self.view.alpha:g}'}", timeout=2)
        self.refresh_all()

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
        else:
            self.view.zoom = max(width, 1e-9)
        self.refresh_all()

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
        mode = self.view.xmode if self.view.xmode in ("step", "rel", "time") else "num"
        t = Text()
        t.append(f"{chart.metric} @ {_xname(self.view.xmode)} {fmt_x(chart.cursor, mode)}: ", style="bold")
        for r in self.project.visible():
            hit = value_at(r, chart.metric, self.view, chart.cursor, chart.system)
            if hit is not None:
                t.append("■ ", style=run_colour(r.index))
                t.append(f"{r.name} {fmt_num(hit[1])} ({fmt_x(hit[0], mode)})  ")
        box.update(t)
        box.display = True


def _xname(mode: str) -> str:
    return {"step": "step", "rel": "relative time", "time": "wall time"}.get(mode, mode[7:])
