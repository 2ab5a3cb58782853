"""The workspace: runs sidebar, metric chart grid, overview and alerts, fed by the data worker."""

from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static

from ...store.series import Delta
from ..keymap import bindings
from ..loader import Loader
from ..messages import LoadFailed, Polled, RunLoaded
from ..model import Project, View
from ..widgets.grid import ChartGrid
from ..widgets.panes import AlertsList, HeaderBar, Overview, RunsList, local_zone
from .actions import ChartActions

MIN_W, MIN_H = 60, 15  # below this the workspace shows a message instead of squeezed charts
LEFT_AT, RIGHT_AT = 100, 130  # widths from which the sidebars show by default
SIDEBAR = {"left": 30, "right": 38}  # widths (app.tcss)
GRID_MIN = 40  # the charts keep at least this many columns: sidebars give way first


class WorkspaceScreen(ChartActions, Screen):
    """All runs of one project. The loader thread posts :mod:`trackio.tui.messages` here."""

    BINDINGS = bindings("workspace")

    def __init__(self, project: str, focus_run: str | None = None):
        super().__init__()
        self.project = Project(project)
        self.view = View()
        self.want_run = focus_run
        self.only_run: str | None = None  # id of the --run run: runs other than it start hidden
        self.loader: Loader | None = None
        self.left_pref: bool | None = None
        self.right_pref: bool | None = None
        self.last_side = "left"  # the sidebar toggled last keeps its place when both do not fit
        self.error = ""

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        app = self.app
        yield HeaderBar(id="header")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield RunsList(unicode=app.glyphs.braille, id="runs")
            yield ChartGrid(self.project, self.view, app.glyphs, id="grid")
            with Vertical(id="right"):
                with VerticalScroll(id="overview-box") as box:
                    box.border_title = "Overview"
                    yield Overview(id="overview")
                yield AlertsList(id="alerts")
        yield Static("", id="readout")
        yield Input(placeholder=app.glyphs.text("metric regex (Enter: apply, Esc: cancel)"), id="filter")
        yield Static(f"Terminal too small: needs at least {MIN_W}x{MIN_H}.", id="too-small")
        yield Footer()

    @property
    def grid(self) -> ChartGrid:
        return self.query_one(ChartGrid)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#readout").display = False
        self._apply_size(self.app.size.width, self.app.size.height)
        self.grid.focus()
        self.refresh_all()
        self._start_loader()

    def on_unmount(self) -> None:
        if self.loader is not None:
            self.loader.stop()
        self.app.release_gc()  # this screen and its data, frozen by settle_gc, can be collected again

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, w: int, h: int) -> None:
        tiny = w < MIN_W or h < MIN_H
        self.query_one("#main").display = not tiny
        self.query_one("#too-small").display = tiny
        show = {"left": self.left_pref if self.left_pref is not None else w >= LEFT_AT,
                "right": self.right_pref if self.right_pref is not None else w >= RIGHT_AT}
        # Charts never squeeze to nothing: the sidebar not toggled last gives way, then the other.
        for side in ("right", "left") if self.last_side == "left" else ("left", "right"):
            if w - sum(SIDEBAR[k] for k, v in show.items() if v) >= GRID_MIN:
                break
            show[side] = False
        for side, shown in show.items():
            node = self.query_one(f"#{side}")
            if node.display != shown:
                node.display = shown

    # -- data ------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="loader", exit_on_error=False)
    def _run_loader(self) -> None:
        self.loader.run()

    def _start_loader(self) -> None:
        self.loader = Loader(self.project.name, self.app.directory, self.app.interval, self.post_message)
        self._run_loader()

    def on_polled(self, message: Polled) -> None:
        self.apply_delta(message.delta, message.first)
        self.refresh_all()

    def apply_delta(self, d: Delta, first: bool = False) -> None:
        """Merge one poll into the model (UI thread; O(new rows))."""
        p = self.project
        before = set(p.runs)
        p.sync_runs(d.runs)
        if self.only_run is not None:  # --run: runs that appear later start hidden too
            p.hidden.update(set(p.runs) - before - {self.only_run})
        for rid, cfg in d.configs.items():
            if rid in p.runs:
                p.runs[rid].config = cfg
        for block in d.metrics:
            run = p.runs.get(block.run_id)
            if run is not None:
                run.append(block)
        for sb in d.system:
            run = p.runs.get(sb.run_id)
            if run is not None:
                run.append_system(sb.times, sb.columns)
        if d.alerts:
            p.alerts.extend(d.alerts)
            if first:
                self.query_one(AlertsList).seen_id = d.alerts[-1].id

    def on_run_loaded(self, message: RunLoaded) -> None:
        for block in message.blocks:
            run = self.project.runs.get(block.run_id)
            if run is not None:
                run.replace(block)
        self.project.loading = message.pending
        self.refresh_all()
        if not message.pending:  # every run's exact history is in: the model's big parts are final
            self.call_after_refresh(self.app.settle_gc)
        if self.loader is not None and not self.loader.painted.is_set():
            self.call_after_refresh(self.loader.painted.set)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.error = message.text
        self.notify(message.text, severity="error", timeout=30)
        self.refresh_all()

    # -- view refresh ----------------------------------------------------------------------------
    def new_alerts(self) -> int:
        seen = self.query_one(AlertsList).seen_id
        return sum(1 for a in self.project.alerts if a.id > seen)

    def refresh_all(self) -> None:
        now = self.app.clock()
        runs = self.query_one(RunsList)
        runs.update_runs(self.project, now)
        if self.want_run is not None and self.project.runs:
            self._show_only(self.want_run, runs)
            self.want_run = None
            runs.update_runs(self.project, now)
        self.grid.focus_run = runs.current
        self.query_one(Overview).show_run(self.project.runs.get(runs.current) if runs.current else None,
                                          self.grid.system)
        self.query_one(AlertsList).update_alerts(self.project.alerts, now)
        self.query_one(HeaderBar).show(self.project, self.new_alerts(), now, self.error or self._note(),
                                       self.status_text)
        if self.grid.page_names() != [c.metric for c in self.grid.charts if c.metric]:
            self.grid.assign()
        self.grid.redraw_changed()
        self.update_readout()

    def _note(self) -> str:
        g = self.grid
        bits = []
        if g.system:
            bits.append("system metrics")
        if g.pattern is not None:
            bits.append(f"/{g.pattern.pattern}/")
        if g.pages() > 1:
            bits.append(f"page {g.page + 1}/{g.pages()}")
        if self.view.xmode != "step":
            bits.append("x: " + {"rel": "relative time", "time": f"wall time ({local_zone()})"}.get(
                self.view.xmode, self.view.xmode[7:]))
        if self.view.alpha > 0:
            bits.append(f"EMA {self.view.alpha:g}")
        if not g.system and any(r.system for r in self.project.runs.values()):
            bits.append("m: system metrics")
        if not self.grid.names() and self.project.runs:
            if g.pattern:
                bits.append("no metrics match")
            elif any(r.texts for r in self.project.runs.values()):
                bits.append("only text values so far (see the overview)")
            else:
                bits.append("no metrics yet")
        return " · ".join(bits)

    def _show_only(self, wanted: str, runs: RunsList) -> None:
        """``--run``: show only that run (id, or name: the newest run of that name); the others are
        hidden, listed greyed in the runs sidebar, and Space shows them again."""
        match = [r for r in self.project.ordered() if r.id == wanted] or \
            [r for r in self.project.ordered() if r.name == wanted][-1:]
        if not match:
            self.notify(f"Run '{wanted}' not found in project '{self.project.name}'.",
                        severity="warning", timeout=10)
            return
        keep = match[0].id
        self.only_run = keep
        self.project.hidden.update(rid for rid in self.project.runs if rid != keep)
        runs.highlighted = runs.run_ids.index(keep) if keep in runs.run_ids else runs.highlighted

    # -- events ----------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#runs")
    def _run_highlighted(self) -> None:
        self.refresh_all()

    @on(OptionList.OptionSelected, "#runs")
    def _run_selected(self) -> None:
        self.action_toggle_run()

    @on(OptionList.OptionSelected, "#alerts")
    def _alert_selected(self) -> None:
        alert = self.query_one(AlertsList).current
        if alert is not None:
            self.jump_to_alert(alert)

    def jump_to_alert(self, alert) -> None:
        """Centre every chart's x window on the alert's step, focus its run and mark it seen."""
        if alert.step is not None:
            self.view.xmode = "step"
            chart = self.grid.focused
            win = chart.window_now() if chart else None
            width = (win[1] - win[0]) / 10 if win and self.view.zoom is None else (self.view.zoom or 100.0)
            self.view.zoom = max(width, 20.0)
            self.view.anchor = float(alert.step)
            if chart is not None:
                chart.cursor = float(alert.step)
        runs = self.query_one(RunsList)
        if alert.run_id in runs.run_ids:
            runs.highlighted = runs.run_ids.index(alert.run_id)
        al = self.query_one(AlertsList)
        al.seen_id = max(al.seen_id, alert.id)
        self.refresh_all()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            self.grid.pattern = re.compile(text, re.IGNORECASE) if text else None
        except re.error as e:
            self.notify(f"Invalid regular expression: {e}", severity="error")
            return
        self.grid.page = 0
        event.input.display = False
        self.grid.focus()
        self.grid.assign()
        self.refresh_all()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.grid.pattern.pattern if self.grid.pattern else ""
        box.focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.grid.focus()
            return
        chart = self.grid.focused
        if chart is not None and chart.cursor is not None:
            chart.cursor = None
            self.refresh_all()
            return
        if self.view.anchor is not None or self.view.zoom is not None:
            self.action_zoom_reset()
            return
        self.action_projects()

    def action_projects(self) -> None:
        """Leave this project for the project list (Esc there comes back)."""
        self.app.show_projects()

    def action_toggle_run(self) -> None:
        rid = self.query_one(RunsList).current
        if rid is None:
            return
        self.project.hidden.symmetric_difference_update({rid})
        run = self.project.runs[rid]
        verb = "Hid" if rid in self.project.hidden else "Showing"
        hint = "" if self.query_one("#left").display else " ([: runs list)"
        self.flash(f"{verb} run '{run.name}'{hint}")

    def action_system(self) -> None:
        self.grid.system = not self.grid.system
        self.grid.page = 0
        self.grid.assign()
        self.refresh_all()

    def action_alerts(self) -> None:
        from .alerts import AlertsScreen

        self.app.push_screen(AlertsScreen(self))

    def action_level(self) -> None:
        al = self.query_one(AlertsList)
        al.min_level = {"info": "warn", "warn": "error", "error": "info"}[al.min_level]
        self.refresh_all()

    def action_page(self, delta: int) -> None:
        self.grid.turn(delta)
        self.refresh_all()

    def action_move(self, dx: int, dy: int) -> None:
        focused = self.focused
        if isinstance(focused, OptionList) and dy:
            focused.action_cursor_down() if dy > 0 else focused.action_cursor_up()
            return
        if self.inspect_step(dx):
            return
        self.grid.move(dx, dy)
        self.refresh_all()

    def action_fullscreen(self) -> None:
        chart = self.grid.focused
        if chart is not None:
            from .chart import ChartScreen

            self.app.push_screen(ChartScreen(self, chart.metric, self.grid.system))

    def action_grid_rows(self) -> None:
        g = self.grid
        g.rows_pref = None if g.rows_pref == 4 else (g.rows_pref or 0) + 1
        g.layout_charts()
        self.refresh_all()

    def action_grid_cols(self) -> None:
        g = self.grid
        g.cols_pref = None if g.cols_pref == 4 else (g.cols_pref or 0) + 1
        g.layout_charts()
        self.refresh_all()

    def action_sidebar(self, side: str) -> None:
        node = self.query_one(f"#{side}")
        want = not node.display
        if side == "left":
            self.left_pref = want
        else:
            self.right_pref = want
        self.last_side = side
        self._apply_size(self.app.size.width, self.app.size.height)
        if want and not node.display:
            name = "runs" if side == "left" else "overview/alerts"
            self.flash(f"Too narrow for the {name} sidebar (needs {SIDEBAR[side] + GRID_MIN} columns)")

    def current_chart(self):
        return self.grid.focused
