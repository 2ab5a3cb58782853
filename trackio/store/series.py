"""Metric series for the live dashboard: incremental polling and fast column reads.

The TUI keeps every numeric series of a project in memory and asks this module for *new* rows only:
each table (``metrics``, ``system_metrics``, ``alerts``) is read past a last-row-id cursor, so one poll
costs O(new rows) however long the history is. Whole-run reads use SQLite's ``json_extract`` to pull
only the wanted keys (about 5x faster than decoding every JSON blob in Python); files written by
upstream trackio (JSON as BLOB, nested objects) take the :func:`trackio.store.reader.decode_row` path
so the flatten-on-read rule (contract §2.4) still holds.

Value rules (contract §1.6, §2.4): ints, floats and bools are numbers; the strings ``"NaN"``,
``"Infinity"``, ``"-Infinity"`` are the non-finite floats; ``null`` and every other value (strings,
lists, media dicts) are "not logged" for charting. Times are POSIX seconds computed from the stored
timestamps (millisecond precision, via SQLite ``julianday``).

Arrays are numpy arrays; this module is imported only by the TUI, never by ``import trackio``.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .reader import decode_json, decode_row, read_configs  # noqa: F401 - read_configs re-exported
from .runs import RunRow, project_runs, run_id_expr, tables
from .timefmt import ts_key

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_JD_EPOCH = 2440587.5  # julianday of 1970-01-01T00:00:00Z


def _time_sql(col: str = "timestamp") -> str:
    return f"(julianday({col}) - {_JD_EPOCH}) * 86400.0"


def _path(key: str) -> str:
    """A JSON path selecting the top-level ``key`` literally (quotes escaped per SQLite's path rules)."""
    return '$."' + key.replace('"', '\\"') + '"'


class Column(NamedTuple):
    """One metric inside a :class:`RowBlock`: ``pos`` indexes the block's rows (``None`` = every row),
    ``y`` holds float64 values (NaN/±inf kept)."""

    pos: np.ndarray | None
    y: np.ndarray


class RowBlock(NamedTuple):
    """Consecutive metric rows of one run, in logging order (ascending row id).

    ``ids``/``steps`` are int64, ``times`` float64 POSIX seconds (NaN if unparsable); ``columns`` maps a
    flattened metric name to its :class:`Column`. ``exact`` is False for a strided sample. ``texts``
    maps a metric with no numeric value in the block (only strings, lists, media) to a short text of
    its last value (None when there is none).
    """

    run_id: str
    ids: np.ndarray
    steps: np.ndarray
    times: np.ndarray
    columns: dict[str, Column]
    exact: bool = True
    texts: dict[str, str] | None = None


def to_column(values: list) -> Column | None:
    """Numeric view of one metric's raw values (``None`` = absent); ``None`` when nothing is numeric."""
    try:
        y = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        y = np.array([_num(v) for v in values], dtype=np.float64)
    holes = np.flatnonzero(np.isnan(y))
    if holes.size:
        keep = np.ones(y.size, dtype=bool)
        for i in holes.tolist():
            v = values[i]
            if not (isinstance(v, (int, float)) or (isinstance(v, str) and v in _NONFINITE)):
                keep[i] = False
        if not keep.all():
            pos = np.flatnonzero(keep)
            return Column(pos, y[keep]) if pos.size else None
    return Column(None, y) if y.size else None


def _num(v) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return _NONFINITE.get(v, math.nan)
    return math.nan


def _block(run_id: str, rows: list[tuple], keys: list[str], exact: bool) -> RowBlock:
    if not rows:
        e = np.empty(0, dtype=np.int64)
        return RowBlock(run_id, e, e, np.empty(0), {}, exact)
    cols = list(zip(*rows))
    ids = np.array(cols[0], dtype=np.int64)
    steps = np.array(cols[1], dtype=np.int64)
    times = np.array(cols[2], dtype=np.float64)
    out = {}
    texts = {}
    for k, raw in zip(keys, cols[3:]):
        c = to_column(list(raw))
        if c is not None:
            out[k] = c
            continue
        last = next((v for v in reversed(raw) if v is not None), None)
        if last is not None:
            texts[k] = text_of(last)
    return RowBlock(run_id, ids, steps, times, out, exact, texts or None)


def text_of(value, limit: int = 60) -> str:
    """Short text of a non-numeric logged value: media objects by their type (``[trackio.image]``),
    other values as logged (JSON text for lists), cut to ``limit`` characters."""
    obj = value
    if isinstance(value, str) and value.startswith('{"_type"'):
        obj = decode_json(value)
    if isinstance(obj, dict) and isinstance(obj.get("_type"), str):
        return f"[{obj['_type']}]"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def decoded_block(run_id: str, rows: list[tuple], exact: bool = True) -> RowBlock:
    """Build a block from ``(id, step, time, metrics_cell)`` rows, decoding each cell in Python."""
    dicts = [decode_row(r[3]) for r in rows]
    keys: dict[str, None] = {}
    for d in dicts:
        for k in d:
            keys.setdefault(k)
    flat = [(r[0], r[1], r[2], *[d.get(k) for k in keys]) for r, d in zip(rows, dicts)]
    return _block(run_id, flat, list(keys), exact)


def sample_keys(conn: sqlite3.Connection, run_id: str, sample: int = 32) -> tuple[list[str], bool]:
    """Keys of the run's ``sample`` lowest- and highest-step rows (first-seen order), and whether its
    rows must be decoded in Python (BLOB JSON or nested objects, as upstream writes). Cheap: two index
    range reads of ``sample`` rows."""
    mid = run_id_expr(conn, "metrics")
    keys: dict[str, None] = {}
    decode = False
    # Ordered by step so the (run_id, step) index answers without sorting the run's rows.
    for q in (f"SELECT metrics FROM metrics WHERE {mid}=? ORDER BY step LIMIT ?",
              f"SELECT metrics FROM metrics WHERE {mid}=? ORDER BY step DESC LIMIT ?"):
        for (cell,) in conn.execute(q, (run_id, sample)):
            obj = decode_json(cell)
            if not isinstance(cell, str) or (isinstance(obj, dict) and any(
                    isinstance(v, dict) and "_type" not in v for v in obj.values())):
                decode = True
            if isinstance(obj, dict):
                for k in decode_row(cell):
                    keys.setdefault(k)
    return list(keys), decode


def needs_decode(conn: sqlite3.Connection, run_id: str, sample: int = 32) -> bool:
    """True when the run's rows must be decoded in Python: BLOB JSON or nested objects (upstream)."""
    return sample_keys(conn, run_id, sample)[1]


def run_keys(conn: sqlite3.Connection, run_id: str, max_id: int) -> list[str]:
    """Every top-level key of the run's rows up to ``max_id``, in first-seen order (one SQL scan)."""
    mid = run_id_expr(conn, "metrics")
    sql = (f"SELECT j.key FROM metrics m, json_each(m.metrics) j WHERE m.{mid}=? AND m.id<=? "
           f"AND json_valid(m.metrics) GROUP BY j.key ORDER BY MIN(m.id)")
    return [r[0] for r in conn.execute(sql, (run_id, max_id))]


def read_run(conn: sqlite3.Connection, run_id: str, max_id: int, keys: list[str] | None = None,
             stride: int = 1, decode: bool | None = None) -> RowBlock:
    """Rows of ``run_id`` with ``id <= max_id`` as a :class:`RowBlock`.

    ``stride > 1`` reads only rows whose id is a multiple of ``stride`` (use a prime so interleaved
    runs are sampled evenly): a quick, inexact preview. ``keys=None`` reads every key. ``decode``
    forces (True) or forbids (False) the Python decoding path; ``None`` picks it by :func:`needs_decode`.
    """
    mid = run_id_expr(conn, "metrics")
    where = f"{mid}=? AND id<=?" + (" AND id % ? = 0" if stride > 1 else "")
    params: tuple = (run_id, max_id, stride) if stride > 1 else (run_id, max_id)
    if decode is None:
        decode = needs_decode(conn, run_id)
    if decode:
        cur = conn.execute(f"SELECT id, step, {_time_sql()}, metrics FROM metrics WHERE {where} ORDER BY id",
                           params)
        return concat_blocks(run_id, [decoded_block(run_id, rows, stride == 1) for rows in _chunks(cur)],
                             stride == 1)
    if keys is None:
        keys = run_keys(conn, run_id, max_id)
    if any('"' in k for k in keys):  # SQLite's JSON paths cannot quote a '"'
        return read_run(conn, run_id, max_id, None, stride, True)
    ext = ", json_extract(metrics, ?)" * len(keys)
    cur = conn.execute(f"SELECT id, step, {_time_sql()}{ext} FROM metrics WHERE {where} ORDER BY id",
                       (*[_path(k) for k in keys], *params))
    return concat_blocks(run_id, [_block(run_id, rows, keys, stride == 1) for rows in _chunks(cur)], stride == 1)


def _chunks(cur: sqlite3.Cursor, size: int = 16384):
    """Rows of ``cur`` in lists of ``size``: converted chunk by chunk, a long run never holds all
    its rows as Python tuples at once (peak memory)."""
    while True:
        rows = cur.fetchmany(size)
        if not rows:
            return
        yield rows


def concat_blocks(run_id: str, parts: list[RowBlock], exact: bool = True) -> RowBlock:
    """Join consecutive blocks of one run into one (column positions shifted accordingly)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        e = np.empty(0, dtype=np.int64)
        return RowBlock(run_id, e, e, np.empty(0), {}, exact)
    sizes = [p.ids.size for p in parts]
    offsets = np.cumsum([0] + sizes[:-1])
    names: dict[str, None] = {}
    for p in parts:
        names.update(dict.fromkeys(p.columns))
    cols = {}
    for k in names:
        have = [(p.columns[k], off, n) for p, off, n in zip(parts, offsets, sizes) if k in p.columns]
        y = np.concatenate([c.y for c, _, _ in have])
        if len(have) == len(parts) and all(c.pos is None for c, _, _ in have):
            cols[k] = Column(None, y)
        else:
            cols[k] = Column(np.concatenate([(np.arange(n) if c.pos is None else c.pos) + off
                                             for c, off, n in have]), y)
    texts: dict[str, str] = {}
    for p in parts:
        texts.update(p.texts or {})
    for k in cols:
        texts.pop(k, None)  # numeric somewhere: charted, not a text metric
    return RowBlock(run_id, np.concatenate([p.ids for p in parts]), np.concatenate([p.steps for p in parts]),
                    np.concatenate([p.times for p in parts]), cols, exact, texts or None)


def run_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Number of metric rows per run id."""
    mid = run_id_expr(conn, "metrics")
    return dict(conn.execute(f"SELECT {mid}, count(*) FROM metrics GROUP BY {mid}").fetchall())


def max_id(conn: sqlite3.Connection, table: str) -> int:
    """Largest row id of ``table`` (0 when empty or missing)."""
    if table not in tables(conn):
        return 0
    return conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]


class Alert(NamedTuple):
    """One stored alert. ``time`` is POSIX seconds, ``level`` lowercase."""

    id: int
    run_id: str
    run_name: str
    timestamp: str
    time: float
    title: str
    text: str | None
    level: str
    step: int | None


class SystemBlock(NamedTuple):
    """System-metric rows of one run: ``times`` (POSIX s) and ``columns`` as in :class:`RowBlock`."""

    run_id: str
    ids: np.ndarray
    times: np.ndarray
    columns: dict[str, Column]


@dataclass
class Cursor:
    """Last row id seen per table; a poll reads only rows past it."""

    metrics: int = 0
    system_metrics: int = 0
    alerts: int = 0


@dataclass
class Delta:
    """What one poll found: runs (full listing with status), configs, and new rows per table."""

    runs: list[RunRow] = field(default_factory=list)
    configs: dict[str, dict] = field(default_factory=dict)
    metrics: list[RowBlock] = field(default_factory=list)
    system: list[SystemBlock] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def read_alerts(conn: sqlite3.Connection, after_id: int = 0, limit: int = 100_000) -> list[Alert]:
    """Alerts with ``id > after_id`` in logging order."""
    if "alerts" not in tables(conn):
        return []
    aid = run_id_expr(conn, "alerts")
    rows = conn.execute(f"SELECT id, {aid}, run_name, timestamp, title, text, level, step FROM alerts "
                        f"WHERE id>? ORDER BY id LIMIT ?", (after_id, limit)).fetchall()
    return [Alert(i, rid, name, ts, ts_key(ts), title, text, (level or "warn").lower(), step)
            for i, rid, name, ts, title, text, level, step in rows]


def _group(rows: list[tuple]) -> dict[str, list[tuple]]:
    by_run: dict[str, list[tuple]] = {}
    for r in rows:
        by_run.setdefault(r[1], []).append(r)
    return by_run


def poll(conn: sqlite3.Connection, cursor: Cursor, limit: int = 50_000, with_configs: bool = True) -> Delta:
    """Read what changed since ``cursor`` and advance it.

    Metric and system rows past the cursor are decoded in Python (a poll sees few rows); at most
    ``limit`` rows per table per call, so a huge backlog arrives over several polls. The runs listing
    (for status) and configs are small and re-read each time.
    """
    have = tables(conn)
    d = Delta(runs=project_runs(conn))
    if with_configs:
        d.configs = read_configs(conn)
    if "metrics" in have:
        mid = run_id_expr(conn, "metrics")
        rows = conn.execute(f"SELECT id, {mid}, step, {_time_sql()}, metrics FROM metrics WHERE id>? "
                            f"ORDER BY id LIMIT ?", (cursor.metrics, limit)).fetchall()
        if rows:
            cursor.metrics = rows[-1][0]
        for rid, rs in _group(rows).items():
            d.metrics.append(decoded_block(rid, [(r[0], r[2], r[3], r[4]) for r in rs]))
    if "system_metrics" in have:
        sid = run_id_expr(conn, "system_metrics")
        rows = conn.execute(f"SELECT id, {sid}, {_time_sql()}, metrics FROM system_metrics WHERE id>? "
                            f"ORDER BY id LIMIT ?", (cursor.system_metrics, limit)).fetchall()
        if rows:
            cursor.system_metrics = rows[-1][0]
        for rid, rs in _group(rows).items():
            b = decoded_block(rid, [(r[0], 0, r[2], r[3]) for r in rs])
            d.system.append(SystemBlock(rid, b.ids, b.times, b.columns))
    d.alerts = read_alerts(conn, cursor.alerts, limit)
    if d.alerts:
        cursor.alerts = d.alerts[-1].id
    return d


__all__ = ["Column", "RowBlock", "SystemBlock", "Alert", "Cursor", "Delta", "to_column", "read_run",
           "run_keys", "needs_decode", "sample_keys", "run_row_counts", "max_id", "read_alerts", "read_configs", "poll",
           "decoded_block"]
