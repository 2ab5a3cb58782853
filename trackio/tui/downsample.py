"""Downsampling and smoothing of metric series (pure numpy, no UI).

M4 aggregation: every bucket (a range of x) keeps the *first* and *last* finite value (in x order)
and the *min* and *max*, plus whether it held a non-finite value (drawn as a gap). This is exact for
line rasterisation at the bucket resolution, so a one-step loss spike stays visible however long the
history (Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014).

:class:`Pyramid` keeps a series' M4 buckets incrementally: between 1024 and 2048 buckets of width
``2**k`` aligned on multiples of the width, doubling the width (merging neighbour pairs) when the data
outgrows the array. Appending n points costs O(n) plus an occasional O(buckets) merge, and projecting
onto a chart's columns costs O(buckets): independent of history length.

:func:`ema` is the debiased exponential moving average of TensorBoard and W&B
(``s_t = a*s_{t-1} + (1-a)*x_t``, divided by ``1 - a**n`` after n finite values); non-finite inputs
give NaN outputs and leave the state unchanged.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

CAP = 2048  # buckets per pyramid; projections stay exact up to CAP/2 columns


class Buckets(NamedTuple):
    """M4 aggregates of consecutive buckets, sorted by ``idx`` (bucket or column number).

    ``first``/``last``/``lo``/``hi`` are NaN for a bucket with no finite value; ``gap`` is True when
    the bucket held NaN or ±inf; ``count`` is the number of points.
    """

    idx: np.ndarray
    first: np.ndarray
    last: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    gap: np.ndarray
    count: np.ndarray


def empty_buckets() -> Buckets:
    f = np.empty(0)
    return Buckets(np.empty(0, dtype=np.int64), f, f, f, f, np.empty(0, dtype=bool), np.empty(0, dtype=np.int64))


def aggregate(idx: np.ndarray, y: np.ndarray) -> Buckets:
    """Group points by integer bucket ``idx`` (any order; ties keep input order) into M4 buckets."""
    if idx.size == 0:
        return empty_buckets()
    order = np.argsort(idx, kind="stable")
    idx_s = idx[order]
    y_s = y[order]
    n = idx_s.size
    starts = np.flatnonzero(np.concatenate(([True], idx_s[1:] != idx_s[:-1])))
    fin = np.isfinite(y_s)
    yf = np.where(fin, y_s, np.nan)
    ar = np.arange(n)
    firstpos = np.minimum.reduceat(np.where(fin, ar, n), starts)
    lastpos = np.maximum.reduceat(np.where(fin, ar, -1), starts)
    ok = firstpos < n
    yp = np.append(yf, np.nan)
    first = np.where(ok, yp[np.minimum(firstpos, n)], np.nan)
    last = np.where(ok, yp[np.where(ok, lastpos, n)], np.nan)
    lo = np.fmin.reduceat(yf, starts)
    hi = np.fmax.reduceat(yf, starts)
    gap = np.logical_or.reduceat(~fin, starts)
    count = np.diff(np.append(starts, n))
    return Buckets(idx_s[starts], first, last, lo, hi, gap, count)


def combine(b: Buckets) -> Buckets:
    """Merge buckets that share an ``idx`` (input sorted by idx; earlier entries come first in x)."""
    if b.idx.size == 0:
        return b
    starts = np.flatnonzero(np.concatenate(([True], b.idx[1:] != b.idx[:-1])))
    if starts.size == b.idx.size:
        return b
    n = b.idx.size
    ar = np.arange(n)
    fin = ~np.isnan(b.first)
    firstpos = np.minimum.reduceat(np.where(fin, ar, n), starts)
    lastpos = np.maximum.reduceat(np.where(fin, ar, -1), starts)
    ok = firstpos < n
    fp = np.append(b.first, np.nan)
    lp = np.append(b.last, np.nan)
    return Buckets(b.idx[starts], np.where(ok, fp[np.minimum(firstpos, n)], np.nan),
                   np.where(ok, lp[np.where(ok, lastpos, n)], np.nan),
                   np.fmin.reduceat(b.lo, starts), np.fmax.reduceat(b.hi, starts),
                   np.logical_or.reduceat(b.gap, starts), np.add.reduceat(b.count, starts))


def columns_of(x: np.ndarray, xlo: float, xhi: float, ncols: int) -> np.ndarray:
    """Column number of each x on a chart of ``ncols`` columns spanning [xlo, xhi] (int64, clipped)."""
    span = xhi - xlo
    if not span > 0:
        return np.zeros(x.size, dtype=np.int64)
    c = np.floor((x - xlo) * (ncols / span))
    return np.clip(c, 0, ncols - 1).astype(np.int64)


def m4(x: np.ndarray, y: np.ndarray, xlo: float, xhi: float, ncols: int) -> Buckets:
    """M4 of raw points with ``xlo <= x <= xhi`` onto ``ncols`` columns (points with NaN x are dropped)."""
    keep = (x >= xlo) & (x <= xhi)
    if not keep.all():
        x, y = x[keep], y[keep]
    return aggregate(columns_of(x, xlo, xhi, ncols), y)


class Pyramid:
    """Incremental M4 buckets of one series over its whole x range (see module docstring).

    ``min_width`` is the smallest bucket width (1 for integer steps). ``xmin``/``xmax`` track the
    finite x range of all points added; ``n`` counts them.
    """

    def __init__(self, min_width: float = 1.0, cap: int = CAP):
        self.cap = cap
        self.width = float(min_width)
        self.n = 0
        self.xmin = math.inf
        self.xmax = -math.inf
        self._b = empty_buckets()  # sorted absolute bucket numbers

    @property
    def buckets(self) -> Buckets:
        """Current buckets; ``idx`` are absolute bucket numbers (bucket k covers [k*w, (k+1)*w))."""
        return self._b

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append points (logging order). Points whose x is not finite are ignored."""
        ok = np.isfinite(x)
        if not ok.all():
            x, y = x[ok], y[ok]
        if x.size == 0:
            return
        self.n += x.size
        self.xmin = min(self.xmin, float(x.min()))
        self.xmax = max(self.xmax, float(x.max()))
        while (self.xmax - self.xmin) / self.width >= self.cap - 1:
            self._merge()
        # Bucket numbers as int64: x near 2**63 (float steps round up to 2**63) stays in range.
        k = np.clip(np.floor(x / self.width), -(2.0**63), 2.0**63 - 1024).astype(np.int64)
        new = aggregate(k, y)
        if self._b.idx.size == 0:
            self._b = new
            return
        if new.idx[0] >= self._b.idx[-1]:  # the usual live append: only the tail bucket can merge
            tail = combine(Buckets(*(np.concatenate((a[-1:], b)) for a, b in zip(self._b, new))))
            self._b = Buckets(*(np.concatenate((a[:-1], b)) for a, b in zip(self._b, tail)))
            return
        allb = Buckets(*(np.concatenate((a, b)) for a, b in zip(self._b, new)))
        order = np.argsort(allb.idx, kind="stable")
        self._b = combine(Buckets(*(a[order] for a in allb)))

    def _merge(self) -> None:
        self.width *= 2
        b = self._b
        self._b = combine(b._replace(idx=b.idx >> 1))

    def project(self, xlo: float, xhi: float, ncols: int) -> Buckets:
        """M4 of the buckets overlapping [xlo, xhi], regrouped onto ``ncols`` columns by their centre."""
        b = self._b
        if b.idx.size == 0:
            return b
        start = b.idx * self.width
        # (start >= xlo: near 2**63 a width of 1 vanishes in start + width, which then equals start)
        keep = (start <= xhi) & ((start + self.width > xlo) | (start >= xlo))
        if not keep.all():
            b = Buckets(*(a[keep] for a in b))
            start = start[keep]
        centre = np.clip(start + 0.5 * self.width, xlo, xhi)
        return combine(b._replace(idx=columns_of(centre, xlo, xhi, ncols)))

    def resolution(self, xlo: float, xhi: float) -> float:
        """Buckets per unit of x over a window: the caller falls back to raw points when too coarse."""
        return (xhi - xlo) / self.width


def ema(y: np.ndarray, alpha: float, state: tuple[float, int] = (0.0, 0)) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased EMA of ``y`` continuing from ``state = (s, n)``; returns (smoothed, new state).

    ``alpha`` in [0, 1) is the weight of the past (0 = no smoothing). Non-finite inputs yield NaN and
    do not update the state. Vectorised in blocks so ``alpha**-j`` never overflows, in units scaled
    to each block so values up to the float64 maximum never do either.
    """
    out = np.full(y.shape, np.nan)
    s, n = state
    fin = np.flatnonzero(np.isfinite(y))
    if fin.size == 0:
        return out, (s, n)
    if alpha <= 0:
        out[fin] = y[fin]
        return out, (float(y[fin[-1]]), n + fin.size)
    v = y[fin]
    la = math.log(alpha)
    block = max(1, min(v.size, int(600.0 / -la)))
    res = np.empty(v.size)
    for start in range(0, v.size, block):
        seg = v[start:start + block]
        # Work in units of a power of two near the block's largest magnitude (exact scaling): the
        # weights alpha**-j reach e**600, which would overflow values near 1e300 otherwise.
        big = max(float(np.abs(seg).max()), abs(s))
        unit = math.ldexp(1.0, math.frexp(big)[1] - 1) if big > 0 else 1.0
        j = np.arange(1, seg.size + 1)
        pw = np.exp(la * j)  # alpha**j
        acc = np.cumsum((seg / unit) * np.exp(-la * j))  # sum alpha**-i x_i
        raw = (pw * (s / unit) + (1 - alpha) * pw * acc) * unit
        res[start:start + seg.size] = raw
        s = float(raw[-1])
    counts = n + np.arange(1, v.size + 1)
    out[fin] = res / (1.0 - np.exp(la * counts))
    return out, (s, n + v.size)
