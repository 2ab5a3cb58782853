"""In-memory state of one project for the dashboard: runs, their series, alerts, configs.

Owned by the UI thread; the data worker sends :class:`trackio.store.series.RowBlock` batches that
are appended here in O(new rows). Each series keeps raw arrays (for zoomed windows, inspection and
metric-valued x axes) plus lazily built :class:`~trackio.tui.downsample.Pyramid` s for the step and
wall-time axes, with and without EMA smoothing, updated incrementally on append.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ..store.runs import RunRow
from ..store.series import Alert, Column, RowBlock
from .downsample import Pyramid, ema

X_MODES = ("step", "rel", "time")  # then "metric:<name>" (see layers.py)
_VERSIONS = itertools.count(1)  # one sequence for all series: a rebuilt series never reuses a version


class Buf:
    """A growable 1-D numpy array (amortised O(1) append)."""

    __slots__ = ("a", "n")

    def __init__(self, dtype=np.float64, cap: int = 64):
        self.a = np.empty(cap, dtype=dtype)
        self.n = 0

    def extend(self, v: np.ndarray) -> None:
        need = self.n + v.size
        if need > self.a.size:  # grow by 1/4: amortised O(1), at most 25% slack after a bulk load
            grown = np.empty(max(need, self.a.size + self.a.size // 4 + 64), dtype=self.a.dtype)
            grown[: self.n] = self.a[: self.n]
            self.a = grown
        self.a[self.n:need] = v
        self.n = need

    @property
    def v(self) -> np.ndarray:
        return self.a[: self.n]


class Positions:
    """Row positions of a series' points. While the metric is in every row of its run (the usual
    case) nothing is stored: ``index`` is a slice; the first gap materialises an int64 array."""

    __slots__ = ("n", "buf")

    def __init__(self):
        self.n = 0
        self.buf: Buf | None = None  # None while dense

    def extend(self, pos: np.ndarray) -> None:
        if self.buf is None and pos.size and pos[0] == self.n and pos[-1] == self.n + pos.size - 1:
            self.n += pos.size  # strictly increasing, so first/last pin a contiguous run
            return
        if self.buf is None:
            self.buf = Buf(np.int64, cap=max(64, self.n + pos.size))
            self.buf.extend(np.arange(self.n))
        self.buf.extend(pos)
        self.n = self.buf.n

    @property
    def index(self):
        """Something that indexes the run's row arrays: a slice while dense, else an array."""
        return slice(0, self.n) if self.buf is None else self.buf.v

    @property
    def v(self) -> np.ndarray:
        return np.arange(self.n) if self.buf is None else self.buf.v


class Series:
    """One metric of one run: row positions (into the run's rows) and values, plus caches.

    ``last``/``lo``/``hi`` are the last, smallest and largest finite values (NaN when none);
    ``version`` changes on every append, and is unique across series (a series rebuilt from an exact
    history never repeats its preview's version), so charts and the overview know when to redraw.
    """

    def __init__(self, name: str):
        self.name = name
        self.pos = Positions()
        self.y = Buf()
        self.last = self.lo = self.hi = math.nan
        self.last_raw = math.nan
        self.version = 0
        self._pyr: dict[tuple, Pyramid] = {}
        self._ema: dict[float, tuple[Buf, tuple[float, int]]] = {}

    def append(self, pos: np.ndarray, y: np.ndarray, run: "RunData") -> None:
        if y.size == 0:
            return
        self.pos.extend(pos)
        self.y.extend(y)
        self.last_raw = float(y[-1])
        fin = y[np.isfinite(y)]
        if fin.size:
            self.last = float(fin[-1])
            self.lo = float(np.nanmin([self.lo, fin.min()])) if not math.isnan(self.lo) else float(fin.min())
            self.hi = float(np.nanmax([self.hi, fin.max()])) if not math.isnan(self.hi) else float(fin.max())
        self.version = next(_VERSIONS)
        for alpha, (buf, state) in list(self._ema.items()):
            s, st = ema(y, alpha, state)
            buf.extend(s)
            self._ema[alpha] = (buf, st)
        for (mode, alpha), p in self._pyr.items():
            p.add(run.x_of(mode, pos), self._values(alpha)[-y.size:])

    def _values(self, alpha: float) -> np.ndarray:
        if alpha <= 0:
            return self.y.v
        if alpha not in self._ema:
            buf = Buf(cap=max(64, self.y.n))
            s, st = ema(self.y.v, alpha)
            buf.extend(s)
            self._ema = {alpha: (buf, st)}  # keep one smoothing factor at a time
            self._pyr = {k: v for k, v in self._pyr.items() if k[1] in (0.0, alpha)}
        return self._ema[alpha][0].v

    def values(self, alpha: float = 0.0) -> np.ndarray:
        """Raw values (``alpha == 0``) or their debiased EMA with weight ``alpha``."""
        return self._values(alpha)

    def pyramid(self, mode: str, alpha: float, run: "RunData") -> Pyramid:
        key = (mode, alpha)
        p = self._pyr.get(key)
        if p is None:
            p = Pyramid(min_width=1.0 if mode == "step" else 2.0 ** -10)
            p.add(run.x_of(mode, self.pos.index), self._values(alpha))
            self._pyr[key] = p
        return p


class Extent:
    """Running (min, max) of the finite values added; empty while ``lo > hi``."""

    __slots__ = ("lo", "hi")

    def __init__(self):
        self.lo, self.hi = math.inf, -math.inf

    def add(self, v: np.ndarray) -> None:
        if v.size == 0:
            return
        if v.dtype.kind == "f":
            v = v[np.isfinite(v)]
            if v.size == 0:
                return
        self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))


class RunData:
    """Rows of one run (ids, steps, times) and its metric and system series."""

    def __init__(self, row: RunRow, index: int):
        self.row = row
        self.index = index  # creation order; picks the colour
        self.ids = Buf(np.int64)
        self.steps = Buf(np.int64)
        self.times = Buf()
        self.metrics: dict[str, Series] = {}
        self.system: dict[str, Series] = {}
        self.sys_times = Buf()
        self.exact = True
        self.last_time = math.nan
        self.config: dict = {}
        self.mono = {"step": True, "time": True}  # x non-decreasing in logging order (binary search ok)
        self.extent = {"step": Extent(), "time": Extent(), "sys": Extent()}  # x ranges of the rows
        self.texts: dict[str, str] = {}  # metrics with only non-numeric values -> last value's text
        self._joins: dict[tuple[str, str], tuple[tuple[int, int], np.ndarray]] = {}

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def t0(self) -> float:
        t = self.times.v
        return float(t[0]) if t.size else (float(self.sys_times.v[0]) if self.sys_times.n else 0.0)

    def bounds(self, mode: str, system: bool = False) -> tuple[float, float] | None:
        """(min, max) of the run's x over all its rows on axis ``mode`` (``step`` or ``time``; system
        rows: always time), or None when it has none. O(1): kept up to date on append."""
        e = self.extent["sys" if system else ("step" if mode == "step" else "time")]
        return (e.lo, e.hi) if e.lo <= e.hi else None

    def joined(self, s: Series, other: Series) -> np.ndarray:
        """x of each point of ``s`` when ``other`` is the x axis: ``other``'s value logged at the same
        step (its last finite one; NaN when it has none there), so metrics logged by separate
        ``log()`` calls for one step line up. O(n log n), cached until either series changes."""
        key, vers = (s.name, other.name), (s.version, other.version)
        hit = self._joins.get(key)
        if hit is not None and hit[0] == vers:
            return hit[1]
        steps = self.steps.v
        ostep, oy = steps[other.pos.index], other.y.v
        fin = np.isfinite(oy)
        ostep, oy = ostep[fin], oy[fin]
        order = np.argsort(ostep, kind="stable")
        ostep, oy = ostep[order], oy[order]
        last = np.ones(ostep.size, dtype=bool)
        last[:-1] = ostep[1:] != ostep[:-1]  # the last row of each step wins
        ostep, oy = ostep[last], oy[last]
        want = steps[s.pos.index]
        x = np.full(want.size, np.nan)
        if ostep.size:
            i = np.minimum(np.searchsorted(ostep, want), ostep.size - 1)
            hit_ = ostep[i] == want
            x[hit_] = oy[i[hit_]]
        self._joins[key] = (vers, x)
        return x

    def x_of(self, mode: str, pos) -> np.ndarray:
        """x values of rows ``pos`` (array or slice) on axis ``mode`` (``rel`` is returned as wall
        time; see t0)."""
        if mode == "step":
            return self.steps.v[pos].astype(np.float64)
        return self.times.v[pos]

    def append(self, block: RowBlock) -> bool:
        """Add rows past the ones held (rows already seen are skipped). Returns True if any were new."""
        ids = block.ids
        start = 0
        if self.ids.n and ids.size:
            start = int(np.searchsorted(ids, self.ids.a[self.ids.n - 1], side="right"))
        if start >= ids.size:
            return False
        base = self.ids.n
        for mode, new in (("step", block.steps[start:]), ("time", block.times[start:])):
            held = self.steps if mode == "step" else self.times
            seq = np.concatenate((held.v[-1:], new)) if held.n else new
            if self.mono[mode] and seq.size > 1 and not (seq[1:] >= seq[:-1]).all():
                self.mono[mode] = False
        self.ids.extend(ids[start:])
        self.steps.extend(block.steps[start:])
        self.times.extend(block.times[start:])
        self.extent["step"].add(block.steps[start:])
        self.extent["time"].add(block.times[start:])
        if block.texts:
            self.texts.update(block.texts)
        t = block.times[np.isfinite(block.times)]
        if t.size:
            self.last_time = max(float(t[-1]), self.last_time) if not math.isnan(self.last_time) else float(t[-1])
        for name, col in block.columns.items():
            pos = np.arange(block.ids.size) if col.pos is None else col.pos
            sel = pos >= start
            if not sel.all():
                pos, y = pos[sel], col.y[sel]
            else:
                y = col.y
            if pos.size == 0:
                continue
            s = self.metrics.get(name)
            if s is None:
                s = self.metrics[name] = Series(name)
            s.append(pos - start + base, y, self)
            self.texts.pop(name, None)  # numeric after all: charted
        return True

    def replace(self, block: RowBlock) -> None:
        """Swap in a (more exact) block covering rows up to its last id, keeping later rows held."""
        keep_from = int(np.searchsorted(self.ids.v, block.ids[-1], side="right")) if block.ids.size else 0
        tail = None
        if keep_from < self.ids.n:
            tail = self._slice(keep_from)
        self.ids, self.steps, self.times = Buf(np.int64), Buf(np.int64), Buf()
        self.metrics = {}
        self._joins = {}
        self.mono = {"step": True, "time": True}
        self.extent["step"], self.extent["time"] = Extent(), Extent()
        self.exact = block.exact
        self.append(block)
        if tail is not None:
            self.append(tail)

    def _slice(self, start: int) -> RowBlock:
        cols = {}
        for name, s in self.metrics.items():
            sel = s.pos.v >= start
            if sel.any():
                cols[name] = Column(s.pos.v[sel] - start, s.y.v[sel])
        return RowBlock(self.id, self.ids.v[start:].copy(), self.steps.v[start:].copy(),
                        self.times.v[start:].copy(), cols)

    def append_system(self, times: np.ndarray, columns: dict[str, Column]) -> None:
        base = self.sys_times.n
        self.sys_times.extend(times)
        self.extent["sys"].add(times)
        if times.size:
            t = times[np.isfinite(times)]
            if t.size:
                self.last_time = max(self.last_time, float(t[-1])) if not math.isnan(self.last_time) else float(t[-1])
        for name, col in columns.items():
            pos = np.arange(times.size) if col.pos is None else col.pos
            s = self.system.get(name)
            if s is None:
                s = self.system[name] = Series(name)
            s.append(pos + base, col.y, _SysRun(self))


class _SysRun:
    """Adapter giving system series the x lookup of :meth:`RunData.x_of` (time axis only)."""

    sys_mono = False  # system rows are few; scan them

    def __init__(self, run: RunData):
        self.run = run

    def x_of(self, mode: str, pos: np.ndarray) -> np.ndarray:
        return self.run.sys_times.v[pos]


@dataclass
class View:
    """How the chart grid is drawn; shared by all charts of the workspace."""

    xmode: str = "step"
    alpha: float = 0.0
    zoom: float | None = None  # width of the x window (x units); None = full history
    anchor: float | None = None  # centre of the window; None = follow the newest data
    logy: set[str] = field(default_factory=set)


@dataclass
class Project:
    """Everything the dashboard knows about the open project."""

    name: str
    runs: dict[str, RunData] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)  # logging order
    hidden: set[str] = field(default_factory=set)  # run ids not drawn
    loading: int = 0  # runs whose exact history is still being read

    def ordered(self) -> list[RunData]:
        """Runs in creation order (run indexes follow insertion, so dict order is creation order)."""
        return list(self.runs.values())

    def visible(self) -> list[RunData]:
        if not self.hidden:
            return list(self.runs.values())
        return [r for r in self.runs.values() if r.id not in self.hidden]

    def sync_runs(self, rows: list[RunRow]) -> bool:
        """Add new runs and refresh status; True when the listing changed."""
        changed = False
        for row in rows:
            r = self.runs.get(row.id)
            if r is None:
                self.runs[row.id] = RunData(row, len(self.runs))
                changed = True
            elif r.row != row:
                changed = changed or r.row.status != row.status or r.row.name != row.name
                r.row = row
        return changed

    def metric_names(self, system: bool = False) -> list[str]:
        names: set[str] = set()
        for r in self.runs.values():
            names.update(r.system if system else r.metrics)
        return sorted(names)
