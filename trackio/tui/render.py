"""Rasterise M4 column aggregates into braille (or ASCII) cells.

A chart W cells wide and H cells high is a grid of ``W*gx`` by ``H*gy`` dots: 2x4 per cell with
Unicode braille (U+2800 block, dot numbering from the Unicode standard, chapter 22.1), 1x3 with the
ASCII fallback. Each column of dots lights the vertical span of its data (min..max) plus the line
segments joining it to the neighbouring columns, so a curve reads as connected while a single-step
spike still shows at full height. Columns holding a non-finite value break the line on both sides.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .downsample import Buckets
from .text import to_ascii

# Braille dot bits for (row 0..3, column 0..1) inside a cell.
_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint32)
# ASCII fallback: 1 column x 3 rows per cell; code = bit mask (1 top, 2 middle, 4 bottom).
_ASCII = [" ", "'", "-", "|", ".", ":", "|", "|"]
_FMAX = float(np.finfo(np.float64).max)


class Glyphs(NamedTuple):
    """Dot grid geometry of one cell, how to turn a cell's bit mask into a character, and whether
    other symbols may be Unicode (``braille``) or must go through the ASCII table
    (:data:`trackio.tui.text.SYMBOLS`)."""

    gx: int
    gy: int
    braille: bool

    def char(self, code: int) -> str:
        return chr(0x2800 + code) if self.braille else _ASCII[code]

    def text(self, s: str) -> str:
        """``s`` as this terminal can show it: unchanged, or with every symbol made ASCII."""
        return s if self.braille else to_ascii(s)


BRAILLE = Glyphs(2, 4, True)
ASCII = Glyphs(1, 3, False)


def transform(v: np.ndarray, log: bool) -> np.ndarray:
    """Y transform for drawing: identity, or log10 with non-positive values turned into NaN."""
    if not log:
        return v
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)


def y_range(layers: list[Buckets], log: bool) -> tuple[float, float] | None:
    """(low, high) of the finite drawn values over all layers, widened when flat; None if empty."""
    lo, hi = math.inf, -math.inf
    for b in layers:
        if b.idx.size == 0:
            continue
        a = transform(b.lo, log)
        z = transform(b.hi, log)
        a = a[np.isfinite(a)]
        z = z[np.isfinite(z)]
        if a.size:
            lo = min(lo, float(a.min()))
        if z.size:
            hi = max(hi, float(z.max()))
    if lo > hi:
        return None
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = max(lo - pad, -_FMAX), min(hi + pad, _FMAX)  # room, but never an infinite range
    return lo, hi


def spans(b: Buckets, ncols: int, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per dot column, the (low, high) y to light in transformed units (NaN where nothing)."""
    lo = np.full(ncols, np.nan)
    hi = np.full(ncols, np.nan)
    if b.idx.size == 0:
        return lo, hi
    first, last = transform(b.first, log), transform(b.last, log)
    blo, bhi = transform(b.lo, log), transform(b.hi, log)
    valid = np.isfinite(first) & np.isfinite(last)
    vc = b.idx[valid]
    lo[vc] = np.fmin(blo[valid], first[valid])
    hi[vc] = np.fmax(bhi[valid], first[valid])
    gapcol = np.zeros(ncols + 1, dtype=np.int64)
    gapcol[b.idx[b.gap | (~valid & (b.count > 0))] + 1] = 1
    cum = np.cumsum(gapcol)  # cum[c+1] = gap columns in 0..c
    if vc.size >= 2:
        F, L = first[valid], last[valid]
        bounds = np.arange(1, ncols)  # boundary b sits at x = b - 0.5
        p = np.searchsorted(vc, bounds) - 1
        ok = (p >= 0) & (p + 1 < vc.size)
        p = np.clip(p, 0, vc.size - 2)
        j, m = vc[p], vc[p + 1]
        ok &= (cum[m + 1] - cum[j]) == 0
        frac = ((bounds - 0.5) - j) / np.maximum(m - j, 1)
        val = L[p] * (1 - frac) + F[p + 1] * frac  # never F - L: it overflows for values near ±1.8e308
        val = np.where(ok, val, np.nan)
        # boundary b touches columns b-1 and b
        lo[:-1] = np.fmin(lo[:-1], val)
        hi[:-1] = np.fmax(hi[:-1], val)
        lo[1:] = np.fmin(lo[1:], val)
        hi[1:] = np.fmax(hi[1:], val)
    return lo, hi


def raster(b: Buckets, ncols: int, nrows: int, yr: tuple[float, float], log: bool) -> np.ndarray:
    """Boolean dot grid (nrows x ncols, row 0 at the top) of one series' column aggregates."""
    lo, hi = spans(b, ncols, log)
    # Halved values: yhi - ylo overflows to inf when the range spans most of the float64 range.
    ylo, yhi = yr[0] * 0.5, yr[1] * 0.5
    scale = (nrows - 1) / (yhi - ylo)
    has = np.isfinite(lo) & np.isfinite(hi)
    top = np.where(has, np.rint((yhi - np.where(has, hi, yr[0]) * 0.5) * scale), nrows)
    bot = np.where(has, np.rint((yhi - np.where(has, lo, yr[0]) * 0.5) * scale), -1)
    top = np.clip(top, 0, nrows)
    bot = np.clip(bot, -1, nrows - 1)
    r = np.arange(nrows)[:, None]
    return (r >= top[None, :]) & (r <= bot[None, :])


def dash(grid: np.ndarray, pattern: str, gx: int) -> np.ndarray:
    """The dot grid with the columns of a line pattern cleared: ``dashed`` keeps 2 cells of every 4,
    ``dotted`` 1 dot column of every 3 cells; ``solid`` is returned unchanged. ``gx`` is the number
    of dot columns per cell."""
    if pattern == "solid" or grid.size == 0:
        return grid
    col = np.arange(grid.shape[1]) // gx  # cell of each dot column
    keep = (col % 4 < 2) if pattern == "dashed" else ((col % 3 == 0) & (np.arange(grid.shape[1]) % gx == 0))
    return grid & keep[None, :]


def pack(grid: np.ndarray, glyphs: Glyphs) -> np.ndarray:
    """Cell codes (H x W uint32 bit masks) of a dot grid of shape (H*gy, W*gx)."""
    gy, gx = glyphs.gy, glyphs.gx
    h, w = grid.shape[0] // gy, grid.shape[1] // gx
    g = grid[: h * gy, : w * gx].reshape(h, gy, w, gx)
    if glyphs.braille:
        return np.einsum("hrwc,rc->hw", g.astype(np.uint32), _BRAILLE_BITS)
    bits = np.array([1, 2, 4], dtype=np.uint32)[:gy]
    return np.einsum("hrwc,r->hw", g.astype(np.uint32), bits)


def compose(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Opaque compositing: each cell shows the last layer that lit it. Returns (codes, owner or -1)."""
    if not codes:
        return np.zeros((0, 0), dtype=np.uint32), np.zeros((0, 0), dtype=np.int64)
    out = np.zeros_like(codes[0])
    owner = np.full(codes[0].shape, -1, dtype=np.int64)
    for i, c in enumerate(codes):
        lit = c > 0
        out = np.where(lit, c, out)
        owner = np.where(lit, i, owner)
    return out, owner


def fmt_num(v: float) -> str:
    """Compact number for axes and summaries: 4 significant digits, k/M for big integers."""
    if v is None or math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e6):
        return f"{v:.2e}"
    if a >= 1e4:
        return f"{v / 1e3:.4g}k"
    return f"{v:.4g}"


_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _sci(v: float, digits: int) -> str:
    """Scientific notation without ``+`` or exponent padding: ``1.24e19``, ``-1.7e308``, ``2.5e-9``."""
    m, e = f"{v:.{digits - 1}e}".split("e")
    if "." in m:
        m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


def fmt_axis(v: float, width: int = 8) -> str:
    """Axis label of at most ``width`` (>= 7) characters for any float64: up to 4 significant digits,
    k/M/G/T suffixes from 10**4 to 10**15, else compact scientific notation (:func:`_sci`)."""
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if v == 0:
        return "0"
    for digits in (4, 3, 2, 1):
        r = float(f"{v:.{digits}g}")  # classify the value as it will read once rounded
        a = abs(r)
        if 1e-3 <= a < 1e4:
            s = f"{v:.{digits}g}"
        elif 1e4 <= a < 1e15:
            div, suf = next(p for p in _SUFFIXES if a >= p[0])
            s = f"{v / div:.{min(digits, 3)}g}{suf}"
        else:
            s = _sci(v, digits)
        if "e+" not in s and len(s) <= width:
            return s
    return _sci(v, 1)


def tick_values(lo: float, hi: float, rows: int) -> dict[int, float]:
    """Values labelled on a y axis of ``rows`` text rows spanning [lo, hi] (row 0 at the top): the
    top, the bottom and, from 5 rows, the middle. A value within a millionth of the range of zero
    is 0 (so about -1..1 reads 0 in the middle, not -2.7e-09)."""
    if rows <= 1:
        return {0: hi}
    picks = {0: hi, rows - 1: lo}
    if rows >= 5:
        picks[(rows - 1) // 2] = hi * 0.5 + lo * 0.5  # never hi + lo: it overflows near ±1.8e308
    near = 2e-6 * (hi * 0.5 - lo * 0.5)  # a millionth of hi - lo, which itself may overflow
    return {r: (0.0 if abs(v) <= near else v) for r, v in picks.items()}


def fmt_x(v: float, mode: str, span: float = 0.0) -> str:
    """Label of an x position: steps as integers (k/M), relative times as durations, wall times as
    local clock times (with the date when the window ``span``, in seconds, is a day or more)."""
    if not math.isfinite(v):
        return ""
    if mode == "step":
        a = abs(v)
        if a >= 1e9:
            return _sci(v, 3)  # 4.61e18, never 4.61e+12M
        if a >= 1e6:
            return f"{v / 1e6:.3g}M"
        if a >= 1e4:
            return f"{v / 1e3:.4g}k"
        return str(int(round(v)))
    if mode == "rel":
        s = int(round(v))
        if abs(s) >= 3600:
            return f"{s // 3600}h{(s % 3600) // 60:02d}m"
        if abs(s) >= 60:
            return f"{s // 60}m{s % 60:02d}s"
        return f"{v:.3g}s"
    if mode == "time":
        import time as _t

        try:
            lt = _t.localtime(v)
        except (OverflowError, OSError, ValueError):
            return fmt_num(v)
        return _t.strftime("%m-%d %H:%M" if span >= 86400 else "%H:%M:%S", lt)
    return fmt_num(v)


def fmt_when(v: float) -> str:
    """A wall time for the value readout: local date, time and zone (``2026-07-25 17:59:03 JST``)."""
    import time as _t

    try:
        return _t.strftime("%Y-%m-%d %H:%M:%S %Z", _t.localtime(v))
    except (OverflowError, OSError, ValueError):
        return fmt_num(v)
