"""Renderer, axis, EMA, x-axis and glyph logic of the dashboard, without an app: the defects a
fresh-user test found (numbers refer to its list) stay fixed."""

from __future__ import annotations

import contextlib
import io
import math
import time
import warnings
from decimal import Decimal

import numpy as np
import pytest

from trackio.store.reader import open_project
from trackio.store.runs import RunRow, project_runs
from trackio.store.series import Column, RowBlock, max_id, read_run
from trackio.tui.app import default_glyphs
from trackio.tui.colors import run_pattern, run_swatch
from trackio.tui.downsample import ema, m4
from trackio.tui.keymap import help_rows
from trackio.tui.layers import layer, x_bounds
from trackio.tui.model import RunData, View
from trackio.tui.render import ASCII, BRAILLE, dash, fmt_axis, fmt_x, raster, spans, tick_values, y_range
from trackio.tui.text import locale_is_utf8, to_ascii


def _reads_as(label: str) -> Decimal:
    """The number a person reads from an axis label (k/M/G/T suffixes; beyond float64 too)."""
    mult = {"k": 3, "M": 6, "G": 9, "T": 12}.get(label[-1])
    return Decimal(label[:-1]).scaleb(mult) if mult else Decimal(label)


@pytest.mark.parametrize("v", [1.237e19, 2.494e34, -1.7e308, 1.7976931348623157e308, 5e-324, -2.2e-308,
                               1e-100, 3.3e-101, 9.99e15, -4.2e99, 4_915_200.0, 5.04e-06, -0.001234,
                               0.9635, 12345.0, 9999.7, 999_950.0, 1e14, -2.5e-9])
def test_axis_labels_keep_the_magnitude_within_the_gutter(v):  # 3
    label = fmt_axis(v)
    assert len(label) <= 8, label
    assert abs(_reads_as(label) - Decimal(v)) <= abs(Decimal(v)) * Decimal("0.25"), label  # 1 digit at worst: -2e-308


def test_middle_tick_of_a_symmetric_range_reads_zero():  # 17
    assert tick_values(-1.0, 1.0, 9)[4] == 0.0
    assert tick_values(-1.0 + 2.7e-9, 1.0, 9)[4] == 0.0
    assert tick_values(0.0, 1.0, 9)[4] == 0.5
    assert tick_values(-1.7e308, 1.7e308, 9) == {0: 1.7e308, 8: -1.7e308, 4: 0.0}  # no overflow


def test_extreme_values_span_the_chart_instead_of_a_flat_line():  # 23
    x = np.arange(4.0)
    y = np.array([-1.7e308, 0.0, 1.7e308, 0.0])
    b = m4(x, y, 0.0, 3.0, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning either
        yr = y_range([b], False)
        assert all(math.isfinite(v) for v in yr)
        spans(b, 4, False)
        grid = raster(b, 4, 8, yr, False)
    assert grid[7, 0] and not grid[0, 0]  # -1.7e308 at the bottom
    assert grid[0, 2] and not grid[7, 2]  # +1.7e308 at the top
    flat = m4(x, np.full(4, 1.7976931348623157e308), 0.0, 3.0, 4)
    lo, hi = y_range([flat], False)
    assert math.isfinite(hi) and lo < hi


def test_ema_of_huge_values_stays_finite():  # 23
    y = np.array([1.0, 1e300, -1.7e308, 1.7e308, 2.0] * 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for alpha in (0.3, 0.9, 0.99):
            out, state = ema(y, alpha)
            assert np.isfinite(out).all() and math.isfinite(state[0])
            assert abs(out[-1]) < 1.8e308


def test_a_metric_as_x_axis_joins_rows_of_the_same_step(trackio_dir):  # 7
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project="join", name="r", auto_log_cpu=False, auto_log_gpu=False)
        for step in range(50):
            trackio.log({"train/lr": 0.1 * (step + 1)}, step=step)
            if step % 5 == 4:  # logged by a separate call for the same step, as trainers do
                trackio.log({"val/accuracy": step / 50}, step=step)
        trackio.finish()
    conn = open_project("join", trackio_dir)
    try:
        row = project_runs(conn)[0]
        run = RunData(row, 0)
        run.append(read_run(conn, row.id, max_id(conn, "metrics")))
    finally:
        conn.close()
    view = View(xmode="metric:train/lr")
    assert x_bounds([run], "val/accuracy", view, False) == pytest.approx((0.5, 5.0))
    b = layer(run, "val/accuracy", view, (0.5, 5.0), 100, False)
    assert b.count.sum() == 10 and np.isfinite(b.first).all()


def _run(steps, values, name="m", index=0):
    r = RunData(RunRow(f"{index:032d}", f"r{index}", None, "finished", None, None, None, None, None), index)
    n = len(steps)
    cols = {name: Column(None if len(values) == n else np.arange(len(values)) * (n // len(values)) + n // len(values) - 1,
                         np.array(values, dtype=float))}
    r.append(RowBlock(r.id, np.arange(1, n + 1), np.array(steps), np.arange(n, dtype=float) + 1e9, cols))
    return r


def test_every_chart_of_a_run_shares_its_step_range():  # 30
    r = _run(list(range(600)), [1.0] * 600, "train/loss")
    r.append(RowBlock(r.id, np.array([601]), np.array([599]), np.array([2e9]),
                      {"val/loss": Column(None, np.array([0.5]))}))
    r.append(RowBlock(r.id, np.array([602]), np.array([599]), np.array([2e9]),
                      {"val/acc": Column(None, np.array([0.5]))}))
    v = View()
    assert x_bounds([r], "val/loss", v, False) == x_bounds([r], "train/loss", v, False) == (0.0, 599.0)


def test_a_rebuilt_series_gets_a_new_version():  # 4
    r = _run(list(range(100)), [float(i) for i in range(100)])
    before = r.metrics["m"].version
    full = RowBlock(r.id, np.arange(1, 101), np.arange(100), np.arange(100, dtype=float) + 1e9,
                    {"m": Column(None, np.arange(100, dtype=float) * 2)})
    r.replace(full)
    assert r.metrics["m"].version != before and r.metrics["m"].hi == 198.0


def test_step_labels_stay_readable_up_to_2_63():
    assert fmt_x(950.0, "step") == "950" and fmt_x(12_345.0, "step") == "12.35k"
    assert fmt_x(4_500_000.0, "step") == "4.5M"
    assert fmt_x(float(2**62), "step") == "4.61e18" and fmt_x(-3e12, "step") == "-3e12"


def test_wall_time_labels_are_local_with_the_date_over_long_spans(monkeypatch):  # 21
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert fmt_x(0.0, "time") == "09:00:00"
        assert fmt_x(0.0, "time", span=3 * 86400) == "01-01 09:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_runs_past_the_palette_get_a_line_pattern():  # 13
    assert [run_pattern(i) for i in (0, 9, 10, 19, 20)] == ["solid", "solid", "dashed", "dashed", "dotted"]
    assert run_swatch(0) != run_swatch(10) != run_swatch(20)
    grid = np.ones((4, 16), dtype=bool)
    assert dash(grid, "solid", 2).all()
    dashed = dash(grid, "dashed", 2)
    assert dashed[:, :4].all() and not dashed[:, 4:8].any() and dashed[:, 8:12].all()
    assert 0 < dash(grid, "dotted", 2)[0].sum() < 8


def test_help_lists_every_key_of_every_binding():  # 25
    text = " ".join(keys for keys, _ in help_rows())
    for name in ("PgDn", "PgUp", "Enter", "Home", "Esc", "Tab", "Space", "↑", "k"):
        assert name in text, name


@pytest.mark.parametrize("env,encoding,braille", [
    ({"LANG": "C", "LC_ALL": "C"}, "utf-8", False),  # Python's UTF-8 mode: stdout says utf-8 anyway
    ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, "utf-8", False),  # PEP 538 coercion of an explicit C locale
    ({"LANG": "en_US.ISO-8859-1"}, "utf-8", False),
    ({"LANG": "en_US.UTF-8"}, "utf-8", True),
    ({"LC_ALL": "de_DE.utf8", "LANG": "C"}, "utf-8", True),
    ({}, "utf-8", True),
    ({"LANG": "en_US.UTF-8"}, "latin-1", False),
])
def test_ascii_fallback_follows_the_locale(env, encoding, braille):  # 6
    assert (default_glyphs(encoding, env) is BRAILLE) is braille
    assert locale_is_utf8({}) is None


def test_every_symbol_has_an_ascii_form():  # 6
    text = "╭─ Runs ─╮│┤└ ⚑ 2 new ● ≈ … ≥ warn · ■ □ ✓ ✗ ━━ ╍╍ ┅┅ → ↑ ▁▔▊▎ ⠿"
    out = to_ascii(text)
    assert out.isascii() and ">=" in out and "..." in out and "!" in out
    kept = to_ascii(text, keep_width=True)
    assert kept.isascii() and len(kept) == len(text)
    assert to_ascii("名前", keep_width=True) == "????"
    assert ASCII.text("⚑ ≥") == "! >=" and BRAILLE.text("⚑") == "⚑"
