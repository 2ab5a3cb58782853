"""Keys, focus, live changes and launch modes of the dashboard, driven headless over projects
written by the real API; the launch checks run the real ``trackio`` command. Numbers refer to the
fresh-user defect list."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import subprocess
import sys
import time

import pytest

from cli_support import cli
from trackio.tui import check_interval
from trackio.tui.app import TrackioApp
from trackio.tui.screens.picker import ProjectPicker
from trackio.tui.screens.workspace import WorkspaceScreen
from tui_support import braille_in, loaded, wait_for, write_demo, write_project


@pytest.mark.asyncio
async def test_metric_as_x_axis_draws_metrics_logged_by_another_call(trackio_dir):  # 7
    write_demo(steps=120)
    app = TrackioApp("demo", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        ws = app.screen
        await pilot.press("x", "x", "x")
        await pilot.pause(0.2)
        names = app.screen.names
        await pilot.press(*["down"] * names.index("train/lr"), "enter")
        await pilot.pause(0.3)
        assert ws.view.xmode == "metric:train/lr"
        val = next(c for c in ws.grid.charts if c.metric == "val/accuracy")
        assert braille_in(val) > 5


@pytest.mark.asyncio
async def test_focus_keeps_its_metric_when_one_sorting_before_it_appears(trackio_dir):  # 9
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project="grow", name="r", auto_log_cpu=False, auto_log_gpu=False)
        for s in range(10):
            trackio.log({"b": float(s), "c": float(-s)})
    try:
        app = TrackioApp("grow", directory=trackio_dir, interval=0.25)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, loaded(app, 1), what="project load")
            await pilot.pause(0.2)
            ws = app.screen
            await pilot.press("j")
            assert ws.grid.focused.metric == "c"
            with contextlib.redirect_stdout(io.StringIO()):
                trackio.log({"a": 1.0, "b": 0.0, "c": 0.0})
            await wait_for(pilot, lambda: "a" in ws.grid.names(), what="new metric")
            await pilot.pause(0.3)
            assert ws.grid.focused.metric == "c"
            assert [c.metric for c in ws.grid.charts if c.has_class("-focused")] == ["c"]
    finally:
        with contextlib.redirect_stdout(io.StringIO()):
            trackio.finish()


@pytest.mark.asyncio
async def test_run_option_shows_only_that_run(trackio_dir):  # 10
    write_project(runs=3, steps=30)
    app = TrackioApp("exp", run="run-1", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        await pilot.pause(0.2)
        ws = app.screen
        assert [r.name for r in ws.project.visible()] == ["run-1"]
        assert "2 hidden" in str(ws.query_one("#header").render())
        assert ws.project.runs[ws.query_one("#runs").current].name == "run-1"


@pytest.mark.asyncio
async def test_tab_order_matches_help_and_one_pane_looks_focused(trackio_dir):  # 11
    write_project(runs=2, steps=30)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 2), what="project load")
        await pilot.pause(0.2)
        ws = app.screen
        chart = ws.grid.focused
        assert app.focused is ws.grid
        lit = chart.styles.border_top[1]
        order = []
        for _ in range(4):
            await pilot.press("tab")
            order.append(app.focused.id)
        assert order == ["overview-box", "alerts", "runs", "grid"]
        help_text = dict((k, v) for k, v in __import__("trackio.tui.keymap", fromlist=["x"]).help_rows())["Tab"]
        assert "charts → overview → alerts → runs" in help_text
        await pilot.press("tab", "tab", "tab")  # the runs list
        await pilot.pause(0.1)
        assert app.focused.id == "runs" and chart.styles.border_top[1] != lit


@pytest.mark.asyncio
async def test_zoom_stops_at_a_few_steps(trackio_dir):  # 16
    write_project(runs=1, steps=600)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.2)
        ws = app.screen
        await pilot.press(*["z"] * 12)
        await pilot.pause(0.3)
        lo, hi = ws.grid.focused.window_now()
        assert hi - lo >= 8
        axis = ws.grid.focused._strips[-1].text.split()
        assert len(axis[1:]) == len(set(axis[1:])) >= 2, axis  # distinct step labels


@pytest.mark.asyncio
async def test_smoothing_keys_do_not_pile_up_toasts(trackio_dir):  # 18
    write_project(runs=1, steps=50)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        ws = app.screen
        await pilot.press(*["s"] * 15)
        await pilot.pause(0.2)
        assert len(app._notifications) == 0
        assert "EMA 0.99 (most)" in str(ws.query_one("#header").render())


@pytest.mark.asyncio
async def test_inspect_shows_the_smoothed_value_it_draws(trackio_dir):  # 19
    write_project(runs=1, steps=200)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.2)
        ws = app.screen
        await pilot.press("j", "s", "s", "s", "s", "i")  # train/loss, EMA 0.9
        await pilot.pause(0.2)
        text = str(ws.query_one("#readout").render())
        series = next(iter(ws.project.runs.values())).metrics[ws.grid.focused.metric]
        from trackio.tui.render import fmt_num

        assert "EMA 0.9" in text
        assert f"{fmt_num(series.values(0.9)[-1])} [{fmt_num(series.y.v[-1])}]" in text


@pytest.mark.asyncio
async def test_project_picker_is_live_and_reachable_again(trackio_dir):  # 20
    write_project("one", runs=1, steps=10)
    write_project("two", runs=1, steps=10)
    app = TrackioApp(directory=trackio_dir, interval=0.25)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ProjectPicker), what="picker")
        write_project("three", runs=1, steps=10)
        await wait_for(pilot, lambda: "three" in app.screen.projects, what="new project listed")
        await pilot.press("enter")
        await wait_for(pilot, loaded(app, 1), what="project one")
        assert app.screen.project.name == "one"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ProjectPicker), what="back to the picker")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkspaceScreen), what="back to the project")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ProjectPicker), what="o opens the picker")


@pytest.mark.asyncio
async def test_charts_share_the_x_range_and_hiding_says_so(trackio_dir):  # 30
    write_demo(steps=120)
    app = TrackioApp("demo", directory=trackio_dir)
    async with app.run_test(size=(80, 24)) as pilot:  # the runs sidebar is collapsed here
        await wait_for(pilot, loaded(app, 3), what="project load")
        await pilot.pause(0.2)
        ws = app.screen
        from trackio.tui.layers import x_bounds

        runs = ws.project.visible()
        assert x_bounds(runs, "val/loss", ws.view, False) == x_bounds(runs, "train/loss", ws.view, False)
        await pilot.press("space")
        await pilot.pause(0.1)
        header = str(ws.query_one("#header").render())
        assert "Hid run" in header and "1 hidden" in header


@pytest.mark.asyncio
async def test_runs_past_ten_colours_get_a_pattern_in_the_list(trackio_dir):  # 13
    write_project(runs=12, steps=5, alerts=False)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 12), what="project load")
        runs = app.screen.query_one("#runs")
        first, eleventh = (str(runs.get_option_at_index(i).prompt) for i in (0, 10))
        assert first.startswith("━━") and eleventh.startswith("╍╍")


def test_stdin_not_a_terminal_prints_the_summary(trackio_dir):  # 26
    write_project(runs=1, steps=20)
    master, slave = pty.openpty()  # stdout is a terminal, stdin is /dev/null
    proc = subprocess.Popen([sys.executable, "-m", "trackio.tui", "--project", "exp"], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=dict(os.environ))
    os.close(slave)
    out = b""
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
    assert proc.returncode == 0 and b"Project: exp" in out


def test_interval_is_checked_the_same_way_everywhere(trackio_dir):  # 22
    low = cli("tui", "--interval", "0.1", data_dir=trackio_dir)
    assert low.rc == 2 and "0.25" in low.err
    for bad in ("nan", "inf"):
        r = cli("tui", "--interval", bad, data_dir=trackio_dir)
        assert r.rc == 2 and "finite" in r.err, r.err
    assert "at least 0.25" in cli("tui", "--help").out
    assert check_interval(0.1) == 0.25
    with pytest.raises(ValueError):
        check_interval(float("nan"))


def test_show_notes_the_web_only_keywords(trackio_dir, capsys):  # 28
    import trackio

    trackio.show(project="p", theme="dark", footer=False)
    err = capsys.readouterr().err
    assert "Note: theme= has no effect on the terminal dashboard." in err and "footer=" in err
    trackio.show(project="p")
    assert "Note" not in capsys.readouterr().err


def test_summary_ages_are_compact(trackio_dir, monkeypatch):  # 29
    import trackio.run

    old = time.time() - 400 * 86400
    with monkeypatch.context() as m:
        m.setattr(trackio.run, "_time_ns", lambda: int(old * 1e9))
        write_project(runs=1, steps=5, alerts=False)
    out = subprocess.run([sys.executable, "-m", "trackio.tui", "--project", "exp"], capture_output=True,
                         text=True, timeout=120).stdout
    assert "updated 400d ago" in out
