"""The dashboard driven headless with Textual's Pilot over real project files, at 80x24 and 160x48,
including a writer subprocess logging while the app runs."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap

import pytest
from textual import events

from trackio.tui.app import TrackioApp
from trackio.tui.render import ASCII
from trackio.tui.screens.alerts import AlertsScreen
from trackio.tui.screens.chart import ChartScreen
from trackio.tui.screens.help import HelpScreen
from trackio.tui.screens.picker import ProjectPicker
from trackio.tui.screens.workspace import WorkspaceScreen
from tui_support import braille_in, loaded, wait_for, write_project

@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_workspace_layout_at_both_sizes(trackio_dir, size):
    write_project()
    app = TrackioApp("exp", directory=trackio_dir, interval=0.25)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, loaded(app, 2), what="project load")
        await pilot.pause(0.3)
        ws = app.screen
        names = [c.metric for c in ws.grid.charts if c.metric]
        assert names[0] == "lr" and set(names) <= {"lr", "train/acc", "train/loss", "val/loss"}
        assert ws.query_one("#left").display is (size[0] >= 100)
        assert ws.query_one("#right").display is (size[0] >= 130)
        assert ws.grid.shape() == ((2, 1) if size == (80, 24) else (2, 2))  # 4 metrics: no empty slots
        assert braille_in(ws.grid.charts[0]) > 10
        assert ws.project.runs[next(iter(ws.project.runs))].metrics["train/loss"].y.n == 300
        header = str(ws.query_one("#header").render())
        assert "exp" in header and "2 runs" in header


@pytest.mark.asyncio
async def test_chart_keys_fullscreen_axes_smoothing_zoom_inspect(trackio_dir):
    write_project()
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 2), what="project load")
        ws = app.screen
        await pilot.press("j")  # focus the chart below (the grid is 4x2 here)
        assert ws.grid.focus_index == 2
        await pilot.press("h")
        assert ws.grid.focus_index == 2
        await pilot.press("l")
        assert ws.grid.focus_index == 3
        await pilot.press("y")
        assert ws.grid.focused.metric in ws.view.logy
        await pilot.press("s", "s")
        assert ws.view.alpha == 0.6
        await pilot.press("S")
        assert ws.view.alpha == 0.3
        before = ws.grid.focused.window_now()
        await pilot.press("z")
        assert ws.view.zoom == pytest.approx((before[1] - before[0]) / 2)
        lo, hi = ws.grid.focused.window_now()
        assert hi == before[1] and hi - lo == pytest.approx(ws.view.zoom)  # the newest data stays in view
        await pilot.press("0")
        assert ws.view.zoom is None
        await pilot.press("i")
        await pilot.pause(0.1)
        readout = ws.query_one("#readout")
        assert readout.display and "run-0" in str(readout.render())
        await pilot.press("left")
        assert ws.grid.focused.cursor < 299
        await pilot.press("escape")
        assert ws.grid.focused.cursor is None
        await pilot.press("x")
        assert ws.view.xmode == "rel"
        await pilot.press("x")
        assert ws.view.xmode == "time"
        await pilot.press("x")  # a metric as x axis: the picker opens
        await pilot.pause(0.1)
        await pilot.press("down", "enter")
        assert ws.view.xmode.startswith("metric:")
        await pilot.press("x")
        assert ws.view.xmode == "step"
        await pilot.press("f")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ChartScreen)
        full = app.screen.query_one("#full")
        await pilot.pause(0.2)
        assert braille_in(full) > 50
        await pilot.press("escape")
        assert app.screen is ws


@pytest.mark.asyncio
async def test_filter_pages_grid_shape_runs_and_sidebars(trackio_dir):
    write_project()
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 2), what="project load")
        ws = app.screen
        await pilot.press("slash")
        for ch in "loss$":
            await pilot.press(ch)
        await pilot.press("enter")
        assert [c.metric for c in ws.grid.charts if c.metric] == ["train/loss", "val/loss"]
        await pilot.press("slash", "left_square_bracket", "enter")  # invalid regex: kept, told
        assert ws.grid.pattern.pattern == "loss$"
        await pilot.press("escape")
        await pilot.press("r", "c")
        assert ws.grid.shape() == (1, 1)
        await pilot.press("slash", "backspace", "backspace", "backspace", "backspace", "backspace", "enter")
        assert ws.grid.pattern is None and ws.grid.pages() == 4
        assert ws.grid.page == 2 and ws.grid.charts[0].metric == "train/loss"  # the focus kept its metric
        await pilot.press("n")
        assert ws.grid.page == 3 and ws.grid.charts[0].metric == "val/loss"
        await pilot.press("space")  # hides the highlighted run
        assert len(ws.project.visible()) == 1
        await pilot.press("space")
        assert len(ws.project.visible()) == 2
        await pilot.press("left_square_bracket", "right_square_bracket")
        assert not ws.query_one("#left").display and not ws.query_one("#right").display
        await pilot.press("m")
        assert ws.grid.system and ws.grid.charts[0].metric == "cpu/utilization"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is ws


@pytest.mark.asyncio
async def test_alerts_screen_filter_and_jump(trackio_dir):
    write_project(runs=3)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        ws = app.screen
        await pilot.press("a")
        assert isinstance(app.screen, AlertsScreen)
        al = app.screen.query_one("#all-alerts")
        assert [a.title for a in al.shown] == ["alert 2", "alert 1", "alert 0"]  # newest first
        await pilot.press("L")
        assert [a.level for a in al.shown] == ["error", "warn"]
        await pilot.press("L")
        assert [a.level for a in al.shown] == ["error"]
        await pilot.press("enter")
        assert app.screen is ws
        assert ws.view.anchor == 100.0 and ws.view.zoom is not None
        assert ws.query_one("#runs").current == ws.project.alerts[-1].run_id


@pytest.mark.asyncio
async def test_too_small_terminal_shows_a_message(trackio_dir):
    write_project(runs=1, steps=20)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(50, 12)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        ws = app.screen
        assert ws.query_one("#too-small").display and not ws.query_one("#main").display


@pytest.mark.asyncio
async def test_project_picker_and_missing_project(trackio_dir):
    write_project("one", runs=1, steps=10)
    write_project("two", runs=1, steps=10)
    app = TrackioApp("nope", directory=trackio_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert isinstance(app.screen, ProjectPicker)
        await pilot.press("down", "enter")
        await wait_for(pilot, loaded(app, 1), what="project two")
        assert app.screen.project.name == "two"


@pytest.mark.asyncio
async def test_ascii_fallback_draws_no_braille(trackio_dir):
    write_project(runs=1, steps=100)
    app = TrackioApp("exp", directory=trackio_dir, glyphs=ASCII)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.3)
        chart = app.screen.grid.charts[0]
        text = "".join(seg.text for strip in chart._strips for seg in strip)
        assert braille_in(chart) == 0 and any(c in text for c in "'-.|:")


WRITER = textwrap.dedent("""
    import contextlib, io, sys, time, trackio
    with contextlib.redirect_stdout(io.StringIO()):
        run = trackio.init(project="live", name="first", resume="allow", auto_log_cpu=False, auto_log_gpu=False)
        for s in range(40):
            trackio.log({"loss": 1.0 / (s + 1)})
            time.sleep(0.02)
        run.alert("fresh alert", "from the writer", level="error")
        trackio.finish()
        trackio.init(project="live", name="second", auto_log_cpu=False, auto_log_gpu=False)
        for s in range(25):
            trackio.log({"loss": 2.0 / (s + 1), "acc": s / 25})
        trackio.finish()
""")


@pytest.mark.asyncio
async def test_live_writer_subprocess_adds_points_alerts_and_runs(trackio_dir):
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project="live", name="first", auto_log_cpu=False, auto_log_gpu=False)
        trackio.log({"loss": 5.0})
        trackio.finish()
        trackio.init(project="live", name="idle", auto_log_cpu=False, auto_log_gpu=False)  # no rows yet
    app = TrackioApp("live", directory=trackio_dir, interval=0.25)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1) if False else (lambda: isinstance(app.screen, WorkspaceScreen)
                                                            and len(app.screen.project.runs) == 2))
        ws = app.screen
        first = next(r for r in ws.project.runs.values() if r.name == "first")
        idle = next(r for r in ws.project.runs.values() if r.name == "idle")
        await wait_for(pilot, lambda: first.ids.n == 1, what="first row")
        assert idle.ids.n == 0 and idle.row.status == "running"
        proc = subprocess.Popen([sys.executable, "-c", WRITER], env=dict(os.environ),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                trackio.log({"loss": 4.0})  # the idle run starts logging while the app watches
            await wait_for(pilot, lambda: idle.ids.n == 1, what="idle run's first row")
            await wait_for(pilot, lambda: first.metrics["loss"].y.n == 41, what=lambda: f"writer points (have {first.metrics['loss'].y.n}, error {ws.error})")
            await wait_for(pilot, lambda: any(a.title == "fresh alert" for a in ws.project.alerts), what="alert")
            await wait_for(pilot, lambda: any(r.name == "second" and r.ids.n == 25 for r in ws.project.runs.values()),
                           what="new run")
            assert ws.new_alerts() == 1 and "1 new alert" in str(ws.query_one("#header").render())
            await pilot.pause(0.3)
            chart = next(c for c in ws.grid.charts if c.metric == "loss")
            assert not chart.changed()  # redrawn with the new data already
            assert first.metrics["loss"].last == pytest.approx(1 / 40)
        finally:
            assert proc.wait(timeout=120) == 0, proc.stderr.read()
            with contextlib.redirect_stdout(io.StringIO()):
                trackio.finish()


def test_non_tty_prints_a_summary(trackio_dir):
    write_project(runs=2, steps=60)
    cmd = [sys.executable, "-m", "trackio.tui", "--project", "exp"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Project: exp  (2 run(s), 0 running)" in out.stdout
    assert "Run: run-1  [finished]  step 59  rows 60" in out.stdout
    assert "train/loss" in out.stdout and "last" in out.stdout
    assert "WARN   run-1  alert 1: text (step 20)" in out.stdout
    bad = subprocess.run(cmd[:-1] + ["missing"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "Error: Project 'missing' not found." in bad.stderr
    listing = subprocess.run(cmd[:-2], capture_output=True, text=True, timeout=120)
    assert "1 trackio project(s)" in listing.stdout and "  exp" in listing.stdout


@pytest.mark.asyncio
async def test_mouse_click_focuses_and_wheel_zooms(trackio_dir):
    write_project(runs=1, steps=200)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.2)  # the grid takes its shape once the metrics are known
        ws = app.screen
        second = ws.grid.charts[1]
        await pilot.click(second, offset=(20, 5))
        assert ws.grid.focus_index == 1 and second.has_class("-focused")
        # Pilot has no wheel helper: post the event Textual would send for one notch up.
        second.post_message(events.MouseScrollUp(second, 20, 5, 0, 0, 0, False, False, False))
        await pilot.pause(0.2)
        assert ws.view.zoom is not None


def test_importing_the_tui_package_loads_no_ui_or_numpy():
    code = "import sys, trackio, trackio.tui; print(sorted(m for m in ('textual', 'rich', 'numpy', 'plotext') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.asyncio
async def test_all_nan_metric_says_so_and_other_charts_still_draw(trackio_dir):
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project="nan", name="r", auto_log_cpu=False, auto_log_gpu=False)
        for s in range(30):
            trackio.log({"a_bad": float("nan") if s % 2 else float("inf"), "b_ok": float(s)})
        trackio.finish()
    app = TrackioApp("nan", directory=trackio_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.3)
        bad, ok = app.screen.grid.charts[:2]
        assert bad.metric == "a_bad" and "no finite values" in "".join(s.text for s in bad._strips[0])
        assert braille_in(ok) > 5


@pytest.mark.asyncio
@pytest.mark.parametrize("host_froze", [False, True])
async def test_gc_freeze_is_ours_and_undone(trackio_dir, host_froze):
    """Once the history is loaded the app freezes what is alive (cheaper collections during live
    ticks); leaving the workspace thaws it. A process that had frozen objects itself keeps them
    frozen: the app then never freezes or thaws anything."""
    import gc

    write_project()
    if host_froze:
        gc.freeze()
    before = gc.get_freeze_count()
    try:
        app = TrackioApp("exp", directory=trackio_dir, interval=0.25)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, loaded(app, 2), what="project load")
            await wait_for(pilot, lambda: host_froze or gc.get_freeze_count() > 0, what="gc.freeze()")
            # (a frozen object that dies leaves the count, so the host's count can only shrink)
            kept = (lambda: 0 < gc.get_freeze_count() <= before) if host_froze else (lambda: gc.get_freeze_count() == 0)
            if host_froze:
                assert kept()
            await pilot.press("o")  # back to the project picker: the workspace unmounts
            await pilot.pause(0.2)
            assert isinstance(app.screen, ProjectPicker)
            assert kept()
        assert kept()
    finally:
        gc.unfreeze()
