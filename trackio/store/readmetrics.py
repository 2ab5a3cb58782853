"""Metric reads with SQL doing the work: names, values of one metric, snapshots, system metrics.

Only the rows and JSON keys asked for are read: rows are selected through the ``(run_id, step)`` and
``(run_id, timestamp)`` indexes, one metric is pulled out of each row by SQLite's JSON functions
(``json_type``, ``->``), and names come from ``json_each``. Python decodes whole rows only where SQL
cannot give the exact answer (the *slow rows*):

- JSON stored as BLOB (upstream 0.43 writes orjson bytes),
- rows with an object after the first character (nested objects to flatten, media dicts),
- rows with a backslash, when the metric name is one JSON escapes or is not ASCII (an escaped key
  cannot be matched by a JSON path),
- rows that are not strict JSON (bare ``NaN``/``Infinity`` tokens of older upstream files): SQLite
  ≥ 3.42 would read them as JSON5 and rewrite them, so they are excluded with ``json_valid``; older
  SQLite raises "malformed JSON" and the read is redone in Python.

Rows written by our writer (compact, flat, UTF-8 TEXT) are never slow unless a value is an object or
a list. Logging order (ascending ``id``) is kept everywhere (contract §2.4).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from .decode import decode_json, decode_row, finite, flatten
from .runs import distinct_run_ids, run_id_expr, tables
from .timefmt import parse_ts

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
HAS_ARROW = sqlite3.sqlite_version_info >= (3, 38, 0)  # the -> operator
HAS_JSON5 = sqlite3.sqlite_version_info >= (3, 42, 0)  # JSON5 input (bare NaN/Infinity) accepted


def _path(metric: str) -> str | None:
    """JSON path of a top-level key, or ``None`` when SQLite cannot match it (``"``, ``\\``, control
    characters: such keys are stored escaped, so only slow rows can hold them)."""
    if '"' in metric or "\\" in metric or any(ord(ch) < 0x20 for ch in metric):
        return None
    return f'$."{metric}"'


def _fast(metric: str = "", c: str = "metrics") -> str:
    """SQL that is true when cell ``c`` can be read exactly by SQLite's JSON path functions for
    ``metric``: TEXT, no object after the first character (nothing to flatten, no media dict), no
    JSON5 extension such as a bare ``NaN`` (SQLite ≥ 3.42 would accept and rewrite it; older versions
    raise "malformed JSON" and the caller falls back), and, for a name JSON would escape or that is
    not ASCII (an ``ensure_ascii`` writer escapes those), no backslash: such keys are matched in Python."""
    sql = f"typeof({c}) = 'text' AND {c} NOT GLOB '?*{{*'"
    if HAS_JSON5:
        sql += f" AND json_valid({c})"
    if not metric.isascii() or _path(metric) is None:
        sql += f" AND {c} NOT GLOB '*\\*'"
    return f"({sql})"


FAST = _fast()
CHUNK = 50_000  # rowids per SQL chunk when rendering a whole run
# One entry of `get metric --json` exactly as json.dumps(doc, indent=2) writes it inside "values",
# in the four pieces around its timestamp, step and value.
_ENTRY_PARTS = {"a": '    {\n      "timestamp": ', "b": ',\n      "step": ', "c": ',\n      "value": ',
                "d": "\n    }"}
_VALUE_KEY = _ENTRY_PARTS["c"][1:]
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_indented = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False).encode


class Window(NamedTuple):
    """Which rows a metric read covers (contract §4.1 window modes).

    ``kind``: ``"step"`` (step = ``value``), ``"around"`` (``value`` − ``width`` ≤ step ≤ ``value`` +
    ``width``) or ``"at_time"`` (timestamp within ± ``width`` seconds of the ISO 8601 timestamp
    ``value``, inclusive, compared as instants at microsecond precision).
    """

    kind: str
    value: int | str
    width: int = 10


def _us(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def _window_sql(w: Window | None):
    """``(sql, params, post)``: an ``AND …`` clause, its named params, and an exact Python filter on
    the timestamp for ``at_time`` (``None`` otherwise). ``sql`` is ``None`` when no row can match."""
    if w is None:
        return "", {}, None
    if w.kind == "step":
        if not I64_MIN <= w.value <= I64_MAX:
            return None, {}, None
        return " AND step = :w_lo", {"w_lo": w.value}, None
    if w.kind == "around":
        lo, hi = max(w.value - w.width, I64_MIN), min(w.value + w.width, I64_MAX)
        if lo > I64_MAX or hi < I64_MIN:
            return None, {}, None
        return " AND step BETWEEN :w_lo AND :w_hi", {"w_lo": lo, "w_hi": hi}, None
    center = parse_ts(w.value)
    lo_us, hi_us = _us(center) - w.width * 1_000_000, _us(center) + w.width * 1_000_000
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)

    def prefix(us: int, default: str) -> str:
        try:
            return (epoch + timedelta(microseconds=us)).isoformat()[:19]
        except OverflowError:
            return default

    def post(ts) -> bool:
        try:
            return lo_us <= _us(parse_ts(ts)) <= hi_us
        except (ValueError, TypeError, OverflowError):
            return False

    # Candidates: UTC ISO timestamps (ours and upstream's, which sort as text) within the seconds
    # prefixes of the bounds, plus any row in another form; only text is compared in SQL (no JSON is
    # parsed for other rows) and `post` then checks each candidate as an instant.
    sql = (" AND (timestamp BETWEEN :w_lo AND :w_hi OR NOT (timestamp GLOB "
           "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' "
           "AND (timestamp GLOB '*+00:00' OR timestamp GLOB '*Z')))")
    return sql, {"w_lo": prefix(lo_us, "0"), "w_hi": prefix(hi_us, "9") + "~"}, post


def _is_json_error(e: sqlite3.OperationalError) -> bool:
    return "JSON" in str(e)


def metric_names(conn: sqlite3.Connection, run_id: str, table: str = "metrics") -> list[str]:
    """Sorted flattened metric names over all of a run's rows in ``table`` (``metrics`` or
    ``system_metrics``), media keys included. For ``system_metrics``, ``timestamp`` is not a name.

    SQL lists each row's top-level keys with ``json_each``; only values that are plain objects (to
    flatten, upstream rows) come back to Python.
    """
    if table not in tables(conn):
        return []
    rid = run_id_expr(conn, table)
    names: set[str] = set()
    try:
        rows = conn.execute(
            f"SELECT DISTINCT j.key, CASE WHEN j.type = 'object' AND json_type(j.value, '$._type') IS NULL "
            f"THEN j.value END FROM {table} AS m, json_each(CAST(m.metrics AS TEXT)) AS j "
            f"WHERE m.{rid} = ? AND typeof(j.key) = 'text'", (run_id,)).fetchall()
        for key, nested in rows:
            if nested is None:
                names.add(key)
            else:
                obj = decode_json(nested)
                names.update(flatten(obj, key + "/") if isinstance(obj, dict) else ())
    except sqlite3.OperationalError as e:  # a malformed or NaN-token row: decode every row instead
        if not _is_json_error(e):
            raise
        names.clear()
        for (raw,) in conn.execute(f"SELECT metrics FROM {table} WHERE {rid} = ?", (run_id,)):
            names.update(decode_row(raw))
    if table == "system_metrics":
        names.discard("timestamp")
    return sorted(names)


def _value_rows(conn, run_id: str, metric: str, window: Window | None, table: str = "metrics",
                fast: str | None = None, ids: tuple[int, int] | None = None):
    """Rows ``(timestamp, step, value)`` of ``table`` holding ``metric`` (after flattening), in
    logging order, filtered by ``window`` and optionally by an inclusive ``id`` range."""
    rid = run_id_expr(conn, table)
    clause, params, post = _window_sql(window)
    if clause is None:
        return []
    if ids is not None:
        clause += " AND id BETWEEN :id_lo AND :id_hi"
        params.update(id_lo=ids[0], id_hi=ids[1])
    path = _path(metric)
    fast = _fast(metric) if fast is None else fast
    params.update(rid=run_id, p=path)
    step = "step" if table == "metrics" else "NULL"
    if path is None:
        sql = f"SELECT timestamp, {step}, NULL, NULL, metrics FROM {table} WHERE {rid} = :rid{clause} AND NOT {fast}"
    else:
        value = "metrics -> :p" if HAS_ARROW else "json_extract(metrics, :p)"
        sql = (f"SELECT timestamp, {step}, CASE WHEN {fast} THEN {value} END, CASE WHEN {fast} THEN "
               f"json_type(metrics, :p) END, CASE WHEN NOT {fast} THEN metrics END FROM {table} "
               f"WHERE {rid} = :rid{clause} AND (NOT {fast} OR json_type(metrics, :p) IS NOT NULL)")
    out = []
    for ts, st, v, vtype, raw in conn.execute(sql + " ORDER BY id", params):
        if post is not None and not post(ts):
            continue
        if raw is not None or vtype is None:
            row = decode_row(raw)
            if metric not in row:
                continue
            v = row[metric]
        elif HAS_ARROW or vtype in ("array", "object"):
            v = decode_json(v)
        elif vtype in ("true", "false"):
            v = vtype == "true"
        out.append((ts, st, v))
    return out


def _safe(fn, *args, **kw):
    """Run a reader; if SQLite rejects a row's JSON (a corrupt or NaN-token row), decode every row in
    Python instead (``fast="0"``)."""
    try:
        return fn(*args, **kw)
    except sqlite3.OperationalError as e:
        if not _is_json_error(e):
            raise
        return fn(*args, **{**kw, "fast": "0"})


def metric_values(conn: sqlite3.Connection, run_id: str, metric: str,
                  window: Window | None = None) -> list[tuple[str, int, object]]:
    """``(timestamp, step, value)`` of every row of the run holding ``metric``, in logging order.

    Values are as stored (numbers, strings such as ``"NaN"``, bools, ``None``, lists, media dicts);
    timestamps are the stored strings. ``window`` narrows the rows (see :class:`Window`); a step
    outside the signed 64-bit range matches nothing. Raises ValueError for an ``at_time`` window whose
    timestamp does not parse.
    """
    if "metrics" not in tables(conn):
        return []
    return _safe(_value_rows, conn, run_id, metric, window)


def render_entry(ts, step, value) -> str:
    """One ``{"timestamp", "step", "value"}`` entry as it appears inside the ``"values"`` list of
    ``json.dumps(doc, indent=2, ensure_ascii=False)`` (6-space indent, nested values included)."""
    value = finite(value)
    v = _indented(value) if isinstance(value, (list, dict)) and value else _encode(value)
    v = v.replace("\n", "\n      ")
    return f'    {{\n      "timestamp": {_encode(ts)},\n      "step": {_encode(step)},\n      "value": {v}\n    }}'


def _render_rows(rows) -> str:
    return ",\n".join([render_entry(*r) for r in rows])


def _utf8(text: bytes | None) -> bytes:
    """A chunk SQLite returned as bytes, made valid UTF-8 (each bad byte becomes U+FFFD, as
    :func:`~trackio.store.reader.lenient_text` would read it); ASCII, the usual case, is returned as is."""
    if not text:
        return b""
    return text if text.isascii() else text.decode("utf-8", "replace").encode("utf-8")


def _dense_chunks(conn, run_id: str, metric: str, rid: str, bounds: list[tuple[int, int]]) -> list[tuple[bytes, int]]:
    """``(UTF-8 text, count)`` for each rowid range in ``bounds`` of a run whose rows fill most of them.

    SQLite scans the table in rowid (= logging) order and renders each fast row by concatenation
    (about 15 % cheaper than ``printf``); the text comes back as bytes and goes to stdout as such (no
    decode and re-encode of megabytes). A row lacking the metric renders as NULL and is left out of
    ``group_concat``; the first query counts every row, so a short chunk is read again with a
    ``json_type`` filter, and once that matches, later chunks use the filter from the start. A chunk
    that still falls short (slow rows, a non-integer step) or holds a list value is rendered in Python.
    One thread: on the machines measured, SQLite statements in parallel threads ran slower than in
    sequence (its allocator's global mutex), so chunks are not spread over threads.
    """
    ok = f"({_fast(metric)} AND typeof(step) = 'integer')"
    entry = "CASE WHEN {ok} THEN :a || json_quote(timestamp) || :b || step || :c || (metrics -> :p) || :d END"
    quick = (f"SELECT group_concat({entry.format(ok=ok)}, ',' || char(10)), count(*) FROM metrics NOT INDEXED "
             f"WHERE id BETWEEN :lo AND :hi AND {rid} = :rid")
    filtered = f"{quick} AND (NOT {ok} OR json_type(metrics, :p) IS NOT NULL)"
    params = {"p": _path(metric), "rid": run_id, **_ENTRY_PARTS}
    key = _VALUE_KEY.encode()
    sparse, out = False, []
    factory = conn.text_factory
    for lo, hi in bounds:
        conn.text_factory = bytes
        try:
            text, n = conn.execute(filtered if sparse else quick, {**params, "lo": lo, "hi": hi}).fetchone()
            if not sparse and (text or b"").count(key) != n:
                text2, n2 = conn.execute(filtered, {**params, "lo": lo, "hi": hi}).fetchone()
                if n2 < n:  # some rows lack the metric: filter from now on
                    sparse, text, n = True, text2, n2
        finally:
            conn.text_factory = factory
        text = _utf8(text)
        # Every row in the chunk rendered, no list value (lists are indented over several lines;
        # objects cannot occur: fast rows have no "{" after the first character) and no escape: a
        # stored string may hold escapes json.dumps(ensure_ascii=False) does not write ("\u00e9" from
        # an ensure_ascii writer such as older upstream trackio, or our writer's rows that hold a
        # lone surrogate; "\/"). One-byte searches: a "[" or "\" inside a string is rare and only
        # sends the chunk to Python.
        if text.count(key) != n or b"[" in text or b"\\" in text:
            rows = _value_rows(conn, run_id, metric, None, ids=(lo, hi))
            text, n = _render_rows(rows).encode("utf-8", "backslashreplace"), len(rows)
        out.append((text, n))
    return out


def metric_values_json(conn: sqlite3.Connection, run_id: str, metric: str,
                       window: Window | None = None) -> tuple[list[bytes], int]:
    """The ``"values"`` list of ``get metric --json``, rendered as UTF-8: ``(chunks, count)``.

    Joining ``chunks`` with ``b",\n"`` gives the list's entries exactly as
    ``json.dumps(doc, indent=2, ensure_ascii=False)`` writes them inside the document (see
    :func:`render_entry`). For a whole run stored mostly contiguously, SQLite renders the entries
    (no Python object per row); windows and scattered runs go through :func:`metric_values`.
    """
    if "metrics" not in tables(conn):
        return [], 0
    rid = run_id_expr(conn, "metrics")
    if window is None and HAS_ARROW and _path(metric) is not None:
        if distinct_run_ids(conn, "metrics", rid) == [run_id]:  # the only run: its rows are the table
            lo, hi = conn.execute("SELECT (SELECT min(id) FROM metrics), (SELECT max(id) FROM metrics)").fetchone()
            n = 0 if lo is None else hi - lo + 1
        else:
            lo, hi, n = conn.execute(f"SELECT min(id), max(id), count(*) FROM metrics WHERE {rid} = ?",
                                     (run_id,)).fetchone()
        if n and n * 4 >= hi - lo + 1:  # dense: a rowid-range scan beats index lookups
            try:
                parts = _dense_chunks(conn, run_id, metric, rid,
                                      [(a, min(a + CHUNK - 1, hi)) for a in range(lo, hi + 1, CHUNK)])
                return [t for t, n in parts if n], sum(n for _, n in parts)
            except sqlite3.OperationalError as e:
                if not _is_json_error(e):
                    raise
    rows = metric_values(conn, run_id, metric, window)
    return ([_render_rows(rows).encode("utf-8", "backslashreplace")] if rows else []), len(rows)


def metric_exists(conn: sqlite3.Connection, run_id: str, metric: str, table: str = "metrics") -> bool:
    """Whether any row of the run in ``table`` holds ``metric`` (after flattening)."""
    if table not in tables(conn):
        return False
    rid = run_id_expr(conn, table)
    path, fast = _path(metric), _fast(metric)
    try:
        if path is not None and conn.execute(
                f"SELECT 1 FROM {table} WHERE {rid} = ? AND {fast} AND json_type(metrics, ?) IS NOT NULL LIMIT 1",
                (run_id, path)).fetchone():
            return True
        slow = conn.execute(f"SELECT metrics FROM {table} WHERE {rid} = ? AND NOT {fast}", (run_id,))
    except sqlite3.OperationalError as e:
        if not _is_json_error(e):
            raise
        slow = conn.execute(f"SELECT metrics FROM {table} WHERE {rid} = ?", (run_id,))
    return any(metric in decode_row(raw) for (raw,) in slow)


def snapshot(conn: sqlite3.Connection, run_id: str, window: Window) -> dict[str, list[tuple[str, int, object]]]:
    """Every metric of the run's rows inside ``window``: name → ``[(timestamp, step, value)]``.

    Names in first-seen order, rows in logging order. The rows are found through the index, so the
    cost depends on the window, not on the length of the run.
    """
    if "metrics" not in tables(conn):
        return {}
    clause, params, post = _window_sql(window)
    if clause is None:
        return {}
    params["rid"] = run_id
    out: dict[str, list] = {}
    sql = f"SELECT timestamp, step, metrics FROM metrics WHERE {run_id_expr(conn, 'metrics')} = :rid{clause} ORDER BY id"
    for ts, step, raw in conn.execute(sql, params):
        if post is not None and not post(ts):
            continue
        for k, v in decode_row(raw).items():
            out.setdefault(k, []).append((ts, step, v))
    return out


def system_entries(conn: sqlite3.Connection, run_id: str, metric: str | None = None) -> list[dict]:
    """The run's ``system_metrics`` rows in logging order (contract §4.11).

    Without ``metric``: each entry is the row's flattened keys in stored order, then ``timestamp``.
    With ``metric``: only rows holding it, each as ``{metric: value, "timestamp": ts}``.
    """
    if "system_metrics" not in tables(conn):
        return []
    if metric is not None:
        rows = _value_rows(conn, run_id, metric, None, table="system_metrics", fast="0")
        return [{metric: v, "timestamp": ts} for ts, _, v in rows]
    rid = run_id_expr(conn, "system_metrics")
    out = []
    for ts, raw in conn.execute(f"SELECT timestamp, metrics FROM system_metrics WHERE {rid} = ? ORDER BY id",
                                (run_id,)):
        entry = dict(decode_row(raw))
        entry.pop("timestamp", None)
        entry["timestamp"] = ts
        out.append(entry)
    return out
