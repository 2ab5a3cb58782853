"""What a chart draws: x extents, the zoom window and M4 layers of each run's series on the
view's x axis (step, relative time, wall time, or another metric), plus the value under a cursor.

Step and time axes read the series' incremental pyramids (cost independent of history length);
a zoomed window finer than the pyramid reads the raw points found by binary search; a metric used
as the x axis has no pyramid and scans the series (O(history), on demand only)."""

from __future__ import annotations

import math

import numpy as np

from .downsample import Buckets, empty_buckets, m4
from .model import RunData, Series, View, _SysRun

def series_of(run: RunData, metric: str, system: bool) -> Series | None:
    return (run.system if system else run.metrics).get(metric)


def x_bounds(runs: list[RunData], metric: str, view: View, system: bool) -> tuple[float, float] | None:
    """Full x extent of the chart of ``metric`` over ``runs`` on the view's axis (``rel`` in seconds
    from each run's t0).

    On the step and time axes this is the extent of *all rows* of the runs that log the metric, so
    every chart of a run shares one x range (a validation metric first logged at step 14 still starts
    at 0, like the training metrics). A metric as x axis spans that metric's values."""
    lo, hi = math.inf, -math.inf
    for r in runs:
        s = series_of(r, metric, system)
        if s is None or s.y.n == 0:
            continue
        x = _raw_x(r, s, view, system)
        if x is None:
            b = r.bounds(_pmode(view, system), system)
            if b is None:
                continue
            a, z = b
            if view.xmode == "rel":
                a, z = a - r.t0, z - r.t0
        else:
            fin = x[np.isfinite(x)]
            if fin.size == 0:
                continue
            a, z = float(fin.min()), float(fin.max())
        lo, hi = min(lo, a), max(hi, z)
    if lo > hi:
        return None
    return lo, hi


def _pmode(view: View, system: bool) -> str:
    return "time" if system or view.xmode != "step" else "step"


def _raw_x(run: RunData, s: Series, view: View, system: bool) -> np.ndarray | None:
    """x of every point when the axis is another metric (its value at the point's step; no pyramid
    there), else None."""
    if not view.xmode.startswith("metric:") or system:
        return None
    other = run.metrics.get(view.xmode[7:])
    if other is None:
        return np.full(s.y.n, np.nan)
    return run.joined(s, other)


def window(bounds: tuple[float, float], view: View) -> tuple[float, float]:
    """The x window shown for a chart whose data spans ``bounds`` under the view's zoom."""
    lo, hi = bounds
    if view.zoom is not None and view.zoom < hi - lo:
        if view.anchor is None:
            lo = hi - view.zoom
        else:
            lo = min(max(lo, view.anchor - view.zoom / 2), hi - view.zoom)
            hi = lo + view.zoom
    if hi - lo <= 0:  # one x: centre it (by more than half a step where floats are that coarse, ~2**63)
        pad = max(0.5, 1e-9 * max(abs(lo), abs(hi)))
        lo, hi = lo - pad, hi + pad
    return lo, hi


def layer(run: RunData, metric: str, view: View, xr: tuple[float, float], ncols: int, system: bool,
          alpha: float | None = None) -> Buckets:
    """M4 columns of one run's series over window ``xr`` on ``ncols`` dot columns."""
    s = series_of(run, metric, system)
    if s is None or s.y.n == 0:
        return empty_buckets()
    a = view.alpha if alpha is None else alpha
    shift = run.t0 if view.xmode == "rel" else 0.0
    xlo, xhi = xr[0] + shift, xr[1] + shift
    raw_x = _raw_x(run, s, view, system)
    if raw_x is not None:
        return m4(raw_x, s.values(a), xlo, xhi, ncols)
    owner = _SysRun(run) if system else run
    p = s.pyramid(_pmode(view, system), a, owner)
    if p.resolution(xlo, xhi) >= 2 * ncols:
        return p.project(xlo, xhi, ncols)
    x = owner.x_of(_pmode(view, system), s.pos.index)
    y = s.values(a)
    mono = owner.sys_mono if system else run.mono[_pmode(view, system)]
    if mono:  # O(log n + window) instead of a scan of the whole history
        i0 = int(np.searchsorted(x, xlo, side="left"))
        i1 = int(np.searchsorted(x, xhi, side="right"))
        x, y = x[i0:i1], y[i0:i1]
    return m4(x, y, xlo, xhi, ncols)


def value_at(run: RunData, metric: str, view: View, x: float, system: bool,
             alpha: float = 0.0) -> tuple[float, float, float] | None:
    """(x, raw value, drawn value) of the run's point nearest to ``x`` on the view's axis, or None.
    The drawn value is the smoothed one (debiased EMA with weight ``alpha``) when ``alpha > 0``."""
    s = series_of(run, metric, system)
    if s is None or s.y.n == 0:
        return None
    shift = run.t0 if view.xmode == "rel" else 0.0
    raw_x = _raw_x(run, s, view, system)
    if raw_x is None:
        raw_x = (_SysRun(run) if system else run).x_of(_pmode(view, system), s.pos.index)
    d = np.abs(raw_x - (x + shift))
    if not np.isfinite(d).any():
        return None
    i = int(np.nanargmin(d))
    raw = float(s.y.v[i])
    return float(raw_x[i] - shift), raw, (float(s.values(alpha)[i]) if alpha > 0 else raw)
