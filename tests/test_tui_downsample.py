"""Unit tests of the TUI's numeric core: M4 downsampling, the incremental pyramid, debiased EMA,
braille rasterisation and the x-axis/zoom window logic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trackio.store.runs import RunRow
from trackio.store.series import Column, RowBlock
from trackio.tui.downsample import Pyramid, aggregate, ema, m4
from trackio.tui.layers import layer, value_at, window, x_bounds
from trackio.tui.model import RunData, View
from trackio.tui.render import ASCII, BRAILLE, fmt_axis, pack, raster, spans, y_range


def test_aggregate_keeps_first_last_min_max_per_bucket_in_input_order():
    idx = np.array([1, 0, 1, 0, 1])
    y = np.array([5.0, 2.0, -1.0, 7.0, 3.0])
    b = aggregate(idx, y)
    assert b.idx.tolist() == [0, 1]
    assert b.first.tolist() == [2.0, 5.0]
    assert b.last.tolist() == [7.0, 3.0]
    assert b.lo.tolist() == [2.0, -1.0]
    assert b.hi.tolist() == [7.0, 5.0]
    assert b.count.tolist() == [2, 3]
    assert not b.gap.any()


def test_aggregate_marks_non_finite_as_gap_and_ignores_it_for_extremes():
    b = aggregate(np.array([0, 0, 0, 1]), np.array([np.nan, 1.0, np.inf, np.nan]))
    assert b.gap.tolist() == [True, True]
    assert b.first[0] == 1.0 and b.last[0] == 1.0 and b.lo[0] == 1.0 and b.hi[0] == 1.0
    assert math.isnan(b.first[1]) and math.isnan(b.hi[1])


def test_m4_keeps_a_single_step_spike_in_a_million_points():
    x = np.arange(1_000_000, dtype=float)
    y = np.ones_like(x)
    y[654_321] = 1000.0
    y[10] = -5.0
    b = m4(x, y, 0, x[-1], 200)
    assert b.hi.max() == 1000.0
    assert b.lo.min() == -5.0
    assert b.idx.size == 200
    assert b.count.sum() == x.size


def test_m4_clips_to_the_window():
    x = np.arange(100, dtype=float)
    b = m4(x, x * 2, 10, 19, 10)
    assert b.count.sum() == 10
    assert b.first[0] == 20 and b.last[-1] == 38


def _pyramid_in_chunks(x, y, chunk):
    p = Pyramid()
    for i in range(0, x.size, chunk):
        p.add(x[i:i + chunk], y[i:i + chunk])
    return p


def test_pyramid_incremental_equals_bulk_and_stays_bounded():
    rng = np.random.default_rng(0)
    x = np.arange(300_000, dtype=float)
    y = rng.normal(size=x.size)
    y[123_456] = 50.0
    y[200_000] = np.nan
    bulk = Pyramid()
    bulk.add(x, y)
    inc = _pyramid_in_chunks(x, y, 997)
    assert bulk.width == inc.width
    for a, b in zip(bulk.buckets, inc.buckets):
        np.testing.assert_array_equal(a, b)
    assert 1024 <= inc.buckets.idx.size <= 2048
    assert inc.n == x.size and inc.xmin == 0 and inc.xmax == x[-1]
    proj = inc.project(0, x[-1], 300)
    assert np.nanmax(proj.hi) == 50.0
    assert proj.gap.any()
    assert proj.count.sum() == x.size


def test_pyramid_accepts_backwards_and_negative_steps():
    p = Pyramid()
    p.add(np.array([0.0, 10.0, 11.0]), np.array([1.0, 2.0, 3.0]))
    p.add(np.array([5.0, -3.0]), np.array([9.0, -9.0]))
    b = p.buckets
    assert p.n == 5 and p.xmin == -3
    assert b.hi.max() == 9.0 and b.lo.min() == -9.0
    assert b.idx.tolist() == sorted(b.idx.tolist())


def _ema_loop(y, a):
    out, s, n = [], 0.0, 0
    for v in y:
        if not math.isfinite(v):
            out.append(math.nan)
            continue
        s = a * s + (1 - a) * v
        n += 1
        out.append(s / (1 - a ** n))
    return np.array(out)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_ema_is_debiased_and_skips_non_finite(alpha):
    rng = np.random.default_rng(1)
    y = rng.normal(size=5000) + np.linspace(3, 0, 5000)
    y[[7, 100, 4000]] = [np.nan, np.inf, -np.inf]
    got, _ = ema(y, alpha)
    want = _ema_loop(y, alpha) if alpha else np.where(np.isfinite(y), y, np.nan)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert got[0] == pytest.approx(y[0])  # debiased: the first value is not pulled toward 0


def test_ema_continues_from_state_like_one_pass():
    y = np.random.default_rng(2).normal(size=3001)
    whole, _ = ema(y, 0.95)
    a, st = ema(y[:1000], 0.95)
    b, st = ema(y[1000:2500], 0.95, st)
    c, _ = ema(y[2500:], 0.95, st)
    np.testing.assert_allclose(np.concatenate([a, b, c]), whole, rtol=1e-9)


def test_raster_draws_connected_line_and_breaks_at_gaps():
    x = np.arange(8, dtype=float)
    y = np.array([0, 1, 2, 3, np.nan, 3, 2, 1], dtype=float)
    b = m4(x, y, 0, 7, 8)
    lo, hi = spans(b, 8, False)
    assert np.isnan(lo[4])  # the NaN column lights nothing
    grid = raster(b, 8, 4, (0.0, 3.0), False)
    assert grid[:, 0].any() and grid[:, 3].any() and not grid[:, 4].any()
    assert grid[3, 0] and grid[0, 3]  # y=0 at the bottom row, y=3 at the top row


def test_raster_interpolates_across_empty_columns():
    b = m4(np.array([0.0, 9.0]), np.array([0.0, 9.0]), 0, 9, 10)
    grid = raster(b, 10, 10, (0.0, 9.0), False)
    assert grid.any(axis=0).all()  # a sparse series still draws a continuous line


def test_braille_and_ascii_packing():
    g = np.zeros((4, 2), dtype=bool)
    g[0, 0] = g[3, 1] = True
    assert pack(g, BRAILLE)[0, 0] == 0x01 | 0x80
    assert BRAILLE.char(0x81) == "\u2881"
    a = np.zeros((3, 1), dtype=bool)
    a[2, 0] = True
    assert ASCII.char(int(pack(a, ASCII)[0, 0])) == "."


def test_y_range_log_drops_non_positive_and_flat_series_get_room():
    b = m4(np.arange(3.0), np.array([-1.0, 10.0, 1000.0]), 0, 2, 3)
    assert y_range([b], True) == (1.0, 3.0)
    flat = m4(np.arange(3.0), np.full(3, 5.0), 0, 2, 3)
    lo, hi = y_range([flat], False)
    assert lo < 5.0 < hi


def test_axis_labels_fit_the_gutter():
    for v in (4_915_200.0, 5.04e-06, -0.000123, 0.9635, 12345.0, 1e14, -2.5e-9):
        assert len(fmt_axis(v)) <= 8, v


def _run(steps, times, values, name="m"):
    r = RunData(RunRow("r" * 32, "r", None, "finished", None, None, None, None, None), 0)
    n = len(steps)
    r.append(RowBlock(r.id, np.arange(1, n + 1), np.array(steps), np.array(times, dtype=float),
                      {name: Column(None, np.array(values, dtype=float))}))
    return r


def test_window_follows_the_tail_centres_on_anchor_and_clamps():
    v = View()
    assert window((0.0, 1000.0), v) == (0.0, 1000.0)
    v.zoom = 100.0
    assert window((0.0, 1000.0), v) == (900.0, 1000.0)
    v.anchor = 500.0
    assert window((0.0, 1000.0), v) == (450.0, 550.0)
    v.anchor = 990.0
    assert window((0.0, 1000.0), v) == (900.0, 1000.0)
    v.anchor = 3.0
    assert window((0.0, 1000.0), v) == (0.0, 100.0)
    assert window((5.0, 5.0), View()) == (4.5, 5.5)
    top = float(2**63 - 1)  # steps 2**63-2 and 2**63-1 are one float: the window must still have width
    lo, hi = window((top, top), View())
    assert lo < top < hi


def test_x_axis_modes_step_relative_wall_and_metric():
    r = _run([0, 10, 20, 30], [1000.0, 1001.0, 1003.0, 1006.0], [4.0, 3.0, 2.0, 1.0])
    r.append(RowBlock(r.id, np.array([5, 6, 7, 8]), np.array([40, 50, 60, 70]),
                      np.array([1010.0, 1011.0, 1012.0, 1013.0]),
                      {"tokens": Column(np.array([0, 1, 2, 3]), np.array([100.0, 200.0, 300.0, 400.0])),
                       "m": Column(np.array([0, 3]), np.array([0.5, 0.25]))}))
    assert x_bounds([r], "m", View(xmode="step"), False) == (0.0, 70.0)
    assert x_bounds([r], "m", View(xmode="rel"), False) == (0.0, 13.0)
    assert x_bounds([r], "m", View(xmode="time"), False) == (1000.0, 1013.0)
    # Another metric as x: only rows where both are logged count.
    assert x_bounds([r], "m", View(xmode="metric:tokens"), False) == (100.0, 400.0)
    b = layer(r, "m", View(xmode="metric:tokens"), (100.0, 400.0), 4, False)
    assert b.count.sum() == 2 and b.first[0] == 0.5 and b.last[-1] == 0.25
    assert value_at(r, "m", View(xmode="rel"), 5.9, False) == (6.0, 1.0, 1.0)


def test_zoomed_layer_uses_raw_points_and_only_the_window():
    n = 100_000
    r = _run(list(range(n)), [float(i) for i in range(n)], [float(i % 7) for i in range(n)])
    v = View(zoom=50.0)
    xr = window(x_bounds([r], "m", v, False), v)
    b = layer(r, "m", v, xr, 100, False)
    assert b.count.sum() == 51  # steps 99949..99999 inclusive, not a coarse pyramid bucket
    full = layer(r, "m", View(), (0.0, n - 1.0), 100, False)
    assert full.count.sum() == n


def test_dense_series_store_no_positions_until_a_gap():
    r = _run([0, 1, 2], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    s = r.metrics["m"]
    assert s.pos.buf is None and s.pos.index == slice(0, 3)
    r.append(RowBlock(r.id, np.array([4, 5]), np.array([3, 4]), np.array([3.0, 4.0]),
                      {"m": Column(np.array([1]), np.array([5.0]))}))
    assert s.pos.v.tolist() == [0, 1, 2, 4] and s.y.v.tolist() == [1, 2, 3, 5]
    assert r.x_of("step", s.pos.index).tolist() == [0, 1, 2, 4]


def test_pyramid_keeps_points_at_steps_near_2_63():
    """Steps 2**62 and 2**63-1 (floats 4.6e18 and 2**63): bucket numbers stay in int64 and a bucket
    whose width vanishes in float arithmetic is still found by a window around it."""
    from trackio.tui.downsample import Pyramid

    for xs in ([float(2**62)], [float(2**63 - 2), float(2**63 - 1)]):
        p = Pyramid()
        p.add(np.array(xs), np.arange(1.0, len(xs) + 1))
        lo, hi = window((xs[0], xs[-1]), View())
        b = p.project(lo, hi, 40)
        assert b.idx.size == 1 and b.hi[0] == len(xs) and b.lo[0] == 1.0
