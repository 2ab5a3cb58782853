"""Reads for the web export and sync: a run's rows in logging order, decoded and flattened.

Connections come from :mod:`trackio.store.reader` (read-only, ``query_only``), runs and status from
:func:`trackio.store.runs.project_runs`, and flattening from :func:`trackio.store.reader.flatten`
(contract §2.4). What is here is only the bulk path: a run's metric rows are decoded in one parse
(orjson when installed, else the standard library) instead of one parse per row.
"""

from __future__ import annotations

import json
import sqlite3

from ..store.reader import decode_row, flatten
from ..store.runs import run_id_expr, tables

try:  # a C parser about 3x faster than json on metric rows; optional
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = json.loads

_BATCH = 900  # bound parameters per IN (...) query (SQLite's default limit is 999)


def row_ids(conn: sqlite3.Connection, table: str, run_id: str) -> list[int]:
    """Ids of ``run_id``'s rows in ``table``, in logging order (ascending id). ``[]`` without the table."""
    if table not in tables(conn):
        return []
    col = run_id_expr(conn, table)
    (text,) = conn.execute(f"SELECT group_concat(id) FROM {table} WHERE {col} = ?", (run_id,)).fetchone()
    if not text:
        return []
    ids = list(map(int, text.split(",")))  # one string from SQLite: far fewer Python objects than rows
    ids.sort()
    return ids


def row_count(conn: sqlite3.Connection, table: str, run_id: str) -> int:
    """Number of ``run_id``'s rows in ``table`` (0 without the table)."""
    if table not in tables(conn):
        return 0
    return conn.execute(f"SELECT count(*) FROM {table} WHERE {run_id_expr(conn, table)} = ?", (run_id,)).fetchone()[0]


def _texts(rows) -> list[str | None]:
    out = []
    for raw in rows:
        if isinstance(raw, str):
            out.append(raw)
        elif isinstance(raw, (bytes, bytearray, memoryview)):
            try:
                out.append(bytes(raw).decode("utf-8"))
            except UnicodeDecodeError:
                out.append(None)
        else:
            out.append(None)
    return out


def decode_many(raw_values: list) -> list[dict]:
    """Decode stored ``metrics`` cells (TEXT or BLOB) into flat dicts, one per cell, in order.

    Same result as :func:`trackio.store.reader.decode_row` on each cell (``{}`` for an unreadable
    cell), computed with one parse for the whole list when every cell is a JSON object.
    """
    texts = _texts(raw_values)
    if not texts:
        return []
    if None not in texts:
        try:
            rows = _fast_loads("[" + ",".join(texts) + "]")
        except ValueError:
            rows = None
        if rows is not None and len(rows) == len(texts):
            for i, text in enumerate(texts):
                row = rows[i]
                if type(row) is not dict:
                    rows[i] = {}
                elif text.find("{", 1) != -1:  # may hold a nested mapping: flatten it (contract §1.6)
                    if any(isinstance(v, dict) and "_type" not in v for v in row.values()):
                        rows[i] = flatten(row)
            return rows
    return [decode_row(raw) for raw in raw_values]


def rows_from(conn: sqlite3.Connection, table: str, ids: list[int], cols: str) -> list[tuple]:
    """Rows of ``table`` with the given ids (ascending, all of one run), columns ``id, <cols>``."""
    if not ids:
        return []
    lo, hi = ids[0], ids[-1]
    # A run's ids are a range with gaps (other runs' rows in between): fetch the range, keep ours.
    if hi - lo + 1 <= 2 * len(ids):
        wanted = set(ids) if hi - lo + 1 != len(ids) else None
        got = conn.execute(f"SELECT id, {cols} FROM {table} WHERE id BETWEEN ? AND ?", (lo, hi)).fetchall()
        if wanted is not None:
            got = [r for r in got if r[0] in wanted]
    else:
        got = []
        for i in range(0, len(ids), _BATCH):
            part = ids[i:i + _BATCH]
            got.extend(conn.execute(f"SELECT id, {cols} FROM {table} WHERE id IN ({','.join('?' * len(part))})",
                                    part).fetchall())
    got.sort()
    return got


def run_rows(conn: sqlite3.Connection, table: str, run_id: str, first_id: int) -> list[tuple]:
    """``(id, metrics)`` of ``run_id``'s rows with ``id >= first_id``, in logging order."""
    col = run_id_expr(conn, table)
    got = conn.execute(f"SELECT id, metrics FROM {table} WHERE {col} = ? AND +id >= ?", (run_id, first_id)).fetchall()
    got.sort()
    return got


def run_dicts(conn: sqlite3.Connection, table: str, run_id: str, ids: list[int]) -> list[dict]:
    """The rows with these ids (ascending, all of ``run_id``) as flat dicts, in logging order.

    The fast path lets SQLite join the JSON texts into one string (one Python object instead of one
    per row) and parses it in one call. When the run's ids are a nearly contiguous range (one run
    written at a time), the rows are read by rowid range, which yields them in id order; otherwise
    through the run's index, with the order checked. Anything unusual (a row that does not parse,
    rows out of order) falls back to fetching, sorting and decoding row by row.
    """
    if not ids:
        return []
    col = run_id_expr(conn, table)
    n = len(ids)
    if ids[-1] - ids[0] + 1 <= 2 * n:
        joined, got = conn.execute(
            f"SELECT CAST('[' || group_concat(metrics, ',') || ']' AS BLOB), count(*) FROM {table} "
            f"WHERE id BETWEEN ? AND ? AND +{col} = ?",
            (ids[0], ids[-1], run_id)).fetchone()
        ordered = True
    else:
        ids_text, joined, got = conn.execute(
            f"SELECT group_concat(id), CAST('[' || group_concat(metrics, ',') || ']' AS BLOB), count(*) FROM {table} "
            f"WHERE {col} = ? AND +id BETWEEN ? AND ?", (run_id, ids[0], ids[-1])).fetchone()
        ordered = isinstance(ids_text, str) and list(map(int, ids_text.split(","))) == ids
    if ordered and got == n and isinstance(joined, bytes):  # UTF-8 bytes, parsed without a str copy
        try:
            rows = _fast_loads(joined)
        except ValueError:
            rows = None
        if rows is not None and len(rows) == n:
            if set(map(type, rows)) != {dict}:
                rows = [r if type(r) is dict else {} for r in rows]
            if joined.count(b"{") != n:  # some row may hold a nested mapping
                _flatten_nested(rows)
            return rows
    return decode_many([r[1] for r in rows_from(conn, table, ids, "metrics")])


def _flatten_nested(rows: list) -> None:
    for i, row in enumerate(rows):
        for v in row.values():
            if type(v) is dict and "_type" not in v:
                rows[i] = flatten(row)
                break


ALERT_COLS = "timestamp, title, text, level, step, alert_id"


def alert_rows(conn: sqlite3.Connection, ids: list[int]) -> list[tuple]:
    """``(id, timestamp, title, text, level, step, alert_id)`` for the given alert ids, in order."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(alerts)")}
    cols = ", ".join(c if c in have else f"NULL AS {c}" for c in ("timestamp", "title", "text", "level",
                                                                 "step", "alert_id"))
    return rows_from(conn, "alerts", ids, cols)
