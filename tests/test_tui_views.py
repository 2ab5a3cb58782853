"""What the dashboard shows, driven headless at 80x24 and 160x48 over projects written by the real
API (``trackio demo`` training included): colour-less and ASCII terminals, the overview, the grid's
shape and the sidebars, the full-screen legend. Numbers refer to the fresh-user defect list."""

from __future__ import annotations

import contextlib
import io

import pytest
from textual import events

from trackio.tui.app import TrackioApp
from trackio.tui.render import ASCII
from trackio.tui.screens.chart import ChartScreen
from tui_support import braille_in, loaded, region_text, screen_lines, wait_for, write_demo, write_project


def _log(project: str, runs: dict[str, list[dict]]) -> None:
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        for name, rows in runs.items():
            trackio.init(project=project, name=name, auto_log_cpu=False, auto_log_gpu=False)
            for row in rows:
                trackio.log(row)
            trackio.finish()


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_no_color_draws_every_view(trackio_dir, monkeypatch, size):  # 2
    write_demo(steps=120)
    _log("demo", {"odd": [{"all_nan": float("nan"), "huge": 1.237e19 * (s + 1)} for s in range(30)]})
    monkeypatch.setenv("NO_COLOR", "1")
    app = TrackioApp("demo", directory=trackio_dir)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, loaded(app, 4), what="project load")
        await pilot.pause(0.3)
        assert app.no_color
        text = "\n".join(screen_lines(app))
        assert "all_nan" in text and "no finite values" in text
        for keys in (("n",), ("n",), ("f",), ("escape", "m"), ("a",), ("escape", "question_mark")):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            assert screen_lines(app)
    assert app.return_code in (None, 0)


@pytest.mark.asyncio
async def test_overview_summary_is_visible_and_scrolls(trackio_dir):  # 5
    write_demo(steps=120)
    app = TrackioApp("demo", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        await pilot.pause(0.3)
        ws = app.screen
        box = ws.query_one("#overview-box")
        shown = region_text(app, box)
        run = ws.project.runs[ws.query_one("#runs").current]
        for name, s in run.metrics.items():
            assert name in shown
        assert shown.count(" / ") >= len(run.metrics)  # a last / min / max line under each metric
        # Tab reaches it; keys and the wheel scroll it when the content is taller than the box.
        while app.focused is not box:
            await pilot.press("tab")
        await pilot.press("end")
        await pilot.pause(0.1)
        assert box.scroll_y > 0 and "Config" in region_text(app, box)
        await pilot.press("home")
        await pilot.pause(0.1)
        assert box.scroll_y == 0
        box.post_message(events.MouseScrollDown(box, 5, 5, 0, 0, 0, False, False, False))
        await pilot.pause(0.2)
        assert box.scroll_y > 0


@pytest.mark.asyncio
async def test_overview_follows_the_exact_history_of_a_long_run(trackio_dir):  # 4
    rows = [{"loss": 1.0} for _ in range(6000)]
    rows[3001]["loss"] = 777.0  # row id 3002: not a multiple of the preview's prime stride
    _log("long", {"r": rows})
    app = TrackioApp("long", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        run = next(iter(app.screen.project.runs.values()))
        await wait_for(pilot, lambda: run.exact, what="exact history")
        await pilot.pause(0.3)
        assert run.metrics["loss"].hi == 777.0
        assert "1 / 1 / 777" in region_text(app, app.screen.query_one("#overview-box"))


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_ascii_mode_sends_only_ascii(trackio_dir, size):  # 6
    write_demo(steps=60)
    app = TrackioApp("demo", directory=trackio_dir, glyphs=ASCII)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        await pilot.pause(0.3)
        for keys in ((), ("slash",), ("escape", "i"), ("escape", "s", "f"), ("escape", "a"), ("escape", "question_mark"),
                     ("escape", "m"), ("m", "o")):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            bad = {ch for line in screen_lines(app) for ch in line if not ch.isascii()}
            assert not bad, (keys, bad)


@pytest.mark.asyncio
async def test_titles_stay_and_the_filter_box_does_not_reshape_the_grid(trackio_dir):  # 8
    write_demo(steps=60)
    app = TrackioApp("demo", directory=trackio_dir, interval=600)  # no poll comes to the rescue
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        await pilot.pause(0.3)
        ws = app.screen
        shape, heights = ws.grid.shape(), [c.size.height for c in ws.grid.charts]
        await pilot.press("slash")
        await pilot.pause(0.2)
        assert ws.grid.shape() == shape and [c.size.height for c in ws.grid.charts] == heights
        for ch in "val":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause(0.2)
        shown = [c for c in ws.grid.charts if c.display and c.metric]
        assert [c.metric for c in shown] == ["val/accuracy", "val/loss"]
        assert all(c.border_title == c.metric for c in shown)
        await pilot.press("r", "r")
        await pilot.pause(0.2)
        assert all(c.border_title == c.metric for c in ws.grid.charts if c.metric)


@pytest.mark.asyncio
async def test_sidebars_never_squeeze_the_charts(trackio_dir):  # 12
    write_project(runs=1, steps=50)
    app = TrackioApp("exp", directory=trackio_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        ws = app.screen
        await pilot.press("left_square_bracket")
        await pilot.pause(0.1)
        assert ws.query_one("#left").display and ws.grid.size.width >= 40
        await pilot.press("right_square_bracket")
        await pilot.pause(0.1)
        assert ws.query_one("#right").display and not ws.query_one("#left").display
        assert min(c.size.width for c in ws.grid.charts if c.display) >= 40


@pytest.mark.asyncio
async def test_few_metrics_fill_the_grid(trackio_dir):  # 27
    _log("two", {"r": [{"a": float(s), "b": float(-s)} for s in range(50)]})
    app = TrackioApp("two", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.3)
        ws = app.screen
        assert ws.grid.shape() == (2, 1)
        assert all(c.size.height >= 18 for c in ws.grid.charts)


@pytest.mark.asyncio
async def test_text_only_metrics_are_listed_not_hidden(trackio_dir):  # 14
    _log("words", {"r": [{"phase": f"epoch-{s}"} for s in range(20)]})
    app = TrackioApp("words", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.3)
        ws = app.screen
        overview = region_text(app, ws.query_one("#overview-box"))
        assert "phase: epoch-19" in overview and "no metrics yet" not in overview
        assert "only text values" in str(ws.query_one("#header").render())


@pytest.mark.asyncio
async def test_log_scale_says_why_nothing_or_less_is_drawn(trackio_dir):  # 15
    _log("neg", {"r": [{"a_neg": -1.0 - s, "b_mixed": float(s - 5)} for s in range(20)]})
    app = TrackioApp("neg", directory=trackio_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 1), what="project load")
        await pilot.pause(0.3)
        ws = app.screen
        neg, mixed = ws.grid.charts[:2]
        await pilot.press("y")
        await pilot.pause(0.2)
        assert "no positive values" in region_text(app, neg)
        await pilot.press("j", "y")
        await pilot.pause(0.2)
        assert "≤0 hidden" in mixed.border_subtitle and braille_in(mixed) > 0


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_fullscreen_chart_has_a_legend_and_a_too_small_message(trackio_dir, size):  # 24
    write_demo(steps=60)
    app = TrackioApp("demo", directory=trackio_dir)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, loaded(app, 3), what="project load")
        await pilot.press("f")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ChartScreen)
        legend = region_text(app, app.screen.query_one("#legend"))
        assert all(name in legend for name in ("baseline", "small-lr", "lr-range-test"))
        await app.screen.run_action("inspect")  # the readout would cover a tiny chart
        await pilot.resize_terminal(30, 8)
        await pilot.pause(0.3)
        assert "too small" in "\n".join(screen_lines(app))
        assert not app.screen.query_one("#readout").display
