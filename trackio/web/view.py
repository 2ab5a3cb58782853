"""Downsampling of a run's series for the web view: fixed-width buckets keeping min, max and last.

A run's rows (in logging order) are cut into buckets of ``w = 2**level`` consecutive rows, with the
level chosen so a run has at most :data:`~trackio.store.spacefmt.MAX_POINTS` buckets
(:func:`~trackio.store.spacefmt.level_for`). For each metric and bucket we keep the **last** chartable
value (a number, or one of the strings ``"NaN"``/``"Infinity"``/``"-Infinity"``) with the row it came
from, and the **min** and **max** of the finite numbers. This is the min/max-per-bucket ("M4"-style)
reduction: the envelope keeps every spike visible at any zoom the buckets allow, and the last value
is what a plain line of the series shows. Because bucket edges depend only on the row index and the
level, a bucket, and so a full chunk of buckets, never changes once its rows exist; only the level
change (every doubling of the run) rewrites a run's chunks.

Values are written with 7 significant digits (min/max with 5): chart precision, not storage
precision; the raw rows keep the exact values.
"""

from __future__ import annotations

import json
from itertools import chain
from operator import itemgetter

NONFINITE = frozenset(("NaN", "Infinity", "-Infinity"))
_NUM = (int, float)
_NUMTYPES = {int, float}


class Series:
    """One metric over consecutive buckets: ``last``, ``lo``, ``hi`` and ``at`` (row index of ``last``).

    Lists are per bucket; ``None`` where the bucket holds no chartable value. ``lo``/``hi`` are None
    (not lists) when every bucket has one value at most; ``at`` is None when ``last`` always comes
    from the bucket's last row (so the bucket's shared step and time apply).
    """

    __slots__ = ("last", "lo", "hi", "at")

    def __init__(self, last, lo, hi, at):
        self.last, self.lo, self.hi, self.at = last, lo, hi, at


def downsample(rows: list[dict], w: int) -> tuple[list[int], dict[str, Series]]:
    """Bucket ``rows`` (flat metric dicts in logging order, starting on a bucket edge) by ``w`` rows.

    Returns ``(ends, series)``: ``ends[b]`` is the index in ``rows`` of bucket ``b``'s last row;
    ``series`` maps each chartable metric name (first-seen order) to its :class:`Series`. Metrics that
    never hold a number or a non-finite marker (strings, bools, lists, media) are left out.
    """
    n = len(rows)
    ends = [min(i + w, n) - 1 for i in range(0, n, w)]
    if w > 1 and n:
        fused = _uniform(rows, w, ends)
        if fused is not None:
            return ends, fused
    out: dict[str, Series] = {}
    for name, col in _columns(rows):
        s = _dense(col, w)
        if s is None:
            s = _general(col, w, ends)
        if s is not None:
            out[name] = s
    return ends, out


def _uniform(rows: list[dict], w: int, ends: list[int]) -> dict[str, Series] | None:
    """The common case in one pass, bucket by bucket (each bucket's rows are together in memory):
    every row has the same keys and every value is a number. None when that does not hold."""
    names = list(rows[0])
    if not names or set(map(len, rows)) != {len(names)}:
        return None
    get = itemgetter(*names) if len(names) > 1 else (lambda r, k=names[0]: (r[k],))
    lo_rows, hi_rows = [], []
    try:
        for i in range(0, len(rows), w):
            cols = tuple(zip(*map(get, rows[i:i + w])))
            lo_rows.append(tuple(map(min, cols)))
            hi_rows.append(tuple(map(max, cols)))
        last_rows = [get(rows[e]) for e in ends]
    except (KeyError, TypeError):  # keys differ, or numbers mixed with other values
        return None
    out: dict[str, Series] = {}
    for name, last, lo, hi in zip(names, zip(*last_rows), zip(*lo_rows), zip(*hi_rows)):
        if set(map(type, last)) | set(map(type, lo)) | set(map(type, hi)) <= _NUMTYPES:
            out[name] = Series(list(last), list(lo), list(hi), None)
        else:  # e.g. a column of strings or bools: the general rules decide
            s = _general([r.get(name) for r in rows], w, ends)
            if s is not None:
                out[name] = s
    return out


def _columns(rows: list[dict]):
    """``(name, values)`` per metric, first-seen order; a missing value is None."""
    names = dict.fromkeys(chain.from_iterable(rows))
    return [(name, [r.get(name) for r in rows]) for name in names]


def _dense(col: list, w: int) -> Series | None:
    """The all-numbers case, in C-level loops; None when ``col`` holds anything else."""
    n = len(col)
    full = n - n % w
    groups = list(zip(*[iter(col)] * w)) if w > 1 else None
    tail = col[full:] if w > 1 and full < n else None
    if w == 1:
        last, lo, hi = col, None, None
        check = (col,)
    else:
        try:
            lo = list(map(min, groups))
            hi = list(map(max, groups))
            if tail:
                lo.append(min(tail))
                hi.append(max(tail))
        except TypeError:  # None, strings and numbers mixed
            return None
        last = col[w - 1::w]
        if tail:
            last.append(tail[-1])
        check = (last, lo, hi)
    for values in check:
        if not set(map(type, values)) <= _NUMTYPES:
            return None
    return Series(last, lo, hi, None)


def _general(col: list, w: int, ends: list[int]) -> Series | None:
    last, lo, hi, at = [], [], [], []
    sparse = found = False
    for b, i in enumerate(range(0, len(col), w)):
        chunk = col[i:i + w]
        value = where = None
        for j in range(len(chunk) - 1, -1, -1):
            v = chunk[j]
            t = type(v)
            if t is int or t is float or (t is str and v in NONFINITE):
                value, where = v, i + j
                break
        last.append(value)
        at.append(where)
        if where is not None:
            found = True
            if where != ends[b]:
                sparse = True
        nums = [v for v in chunk if type(v) in _NUM]
        lo.append(min(nums) if nums else None)
        hi.append(max(nums) if nums else None)
    if not found:
        return None
    # min/max add nothing when every bucket's envelope is its last value (one number per bucket).
    band = any(not (a == b == c) for a, b, c in zip(lo, hi, last))
    return Series(last, lo if band else None, hi if band else None, at if sparse else None)


def fmt_values(values, spec: str = "%.7g") -> str:
    """A JSON array of chart values: floats to ``spec``, ints exact, None → null, strings quoted."""
    kinds = set(map(type, values))
    if kinds == {float}:  # the common case, formatted in one C-level pass
        return "[" + ",".join(map(spec.__mod__, values)) + "]"
    if kinds == {int}:
        return "[" + ",".join(map(str, values)) + "]"
    out = []
    append = out.append
    for v in values:
        t = type(v)
        if t is float:
            append(spec % v)
        elif t is int:
            append(str(v))
        elif v is None:
            append("null")
        else:
            append(json.dumps(v))
    return "[" + ",".join(out) + "]"


def fmt_times(values) -> str:
    """A JSON array of relative times in seconds, to the microsecond as stored (None → null): a
    training loop logs many rows per millisecond, and rounding would merge their points."""
    return "[" + ",".join("null" if v is None else "%.6f" % v for v in values) + "]"


def chunk_parts(*, stream: str, level: int, index: int, b0: int, full: bool, steps, times,
                series: dict[str, Series], lo: int, hi: int, row_step, row_time,
                max_bytes: int = 4_000_000) -> list[str]:
    """JSON texts of one view chunk: buckets ``lo ≤ b < hi`` of ``series`` (bucket numbers relative to
    the arrays), whose first bucket is bucket ``b0`` of the run. One text, or several when it would
    pass ``max_bytes``: the metrics are then shared out in order, each part with the chunk's own steps
    and times (see :mod:`trackio.store.spacefmt`).

    ``steps``/``times``: per bucket, step (None for system metrics) and relative time of its last row.
    ``row_step``/``row_time``: callables giving a row index's step and time, used for metrics whose
    last value in a bucket comes from an earlier row (``Series.at``).
    """
    head = [f'"stream":"{stream}","level":{level},"index":{index},"b0":{b0},"nb":{hi - lo},'
            f'"full":{"true" if full else "false"}']
    if steps is not None:
        head.append(f'"s":{fmt_values(steps[lo:hi])}')
    head.append(f'"t":{fmt_times(times[lo:hi])}')
    base = sum(map(len, head)) + 40
    parts: list[dict[str, list[str]]] = []
    size = max_bytes  # start a first part at the first metric
    for name, s in series.items():
        last = s.last[lo:hi]
        if all(x is None for x in last):
            continue
        key = json.dumps(name, ensure_ascii=False)
        items = {"v": f"{key}:{fmt_values(last)}"}
        if s.lo is not None:
            items["lo"] = f"{key}:{fmt_values(s.lo[lo:hi], '%.5g')}"
            items["hi"] = f"{key}:{fmt_values(s.hi[lo:hi], '%.5g')}"
        if s.at is not None:
            at = s.at[lo:hi]
            if steps is not None:
                items["vs"] = f"{key}:{fmt_values([None if a is None else row_step(a) for a in at])}"
            items["vt"] = f"{key}:{fmt_times([None if a is None else row_time(a) for a in at])}"
        grow = sum(len(x) + 1 for x in items.values())
        if size + grow > max_bytes:
            parts.append({})
            size = base
        for label, text in items.items():
            parts[-1].setdefault(label, []).append(text)
        size += grow
    out = []
    for got in parts or [{}]:
        body = list(head)
        for label in ("v", "lo", "hi", "vs", "vt"):
            if got.get(label) or label == "v":
                body.append(f'"{label}":{{{",".join(got.get(label, []))}}}')
        out.append("{" + ",".join(body) + "}")
    return out
