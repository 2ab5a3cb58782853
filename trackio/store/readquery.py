"""Read-only SQL over a project file for ``trackio query project`` (contract §4.12).

Three layers keep any statement from changing anything: a text check (the SQL must start with
``select``, ``with`` or ``pragma``), a read-only connection (``mode=ro`` URI + ``query_only``), and an
SQLite authorizer that allows only reads, selects, functions and a few schema pragmas.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import NamedTuple

from .decode import finite

MAX_ROWS = 10_000
SAFE_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo"})
_ALLOWED = {sqlite3.SQLITE_READ, sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION}
_TRAILING = re.compile(r"[\s;]+\Z")


class QueryError(Exception):
    """A query that was refused or failed; ``str()`` is the message to show after ``Error: ``."""


class QueryResult(NamedTuple):
    """``columns``: names in order, made unique by :func:`unique_columns` (``[]`` for a statement
    without columns); ``rows``: tuples of JSON-ready cell values (NULL → ``None``, UTF-8 BLOB → text,
    other BLOB → lowercase hex, non-finite REAL → ``"NaN"``/``"Infinity"``/``"-Infinity"``); ``sql``:
    the statement as run (trimmed, no trailing ``;``)."""

    sql: str
    columns: list[str]
    rows: list[tuple]


def clean_sql(sql: str) -> str:
    """The SQL trimmed, then trailing ``;`` and whitespace removed."""
    return _TRAILING.sub("", sql.strip())


def unique_columns(names: list[str]) -> list[str]:
    """Column names made unique, order kept: a repeated name gets ``_2``, ``_3`` … (the first free
    suffix, never one that another column already has), so ``SELECT 1 a, 2 a`` gives ``["a", "a_2"]``
    and every cell keeps its own key in the row objects."""
    taken = set(names)
    if len(taken) == len(names):
        return list(names)
    out, seen = [], set()
    for name in names:
        if name in seen:
            k = 2
            while f"{name}_{k}" in taken:
                k += 1
            name = f"{name}_{k}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def _authorize(action, arg1, arg2, _db, _trigger):
    if action in _ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in SAFE_PRAGMAS or (name == "user_version" and arg2 is None):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _cell(v):
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return v.hex()
    if isinstance(v, float):
        return finite(v)
    return v


def interruptible(conn: sqlite3.Connection, work):
    """``work()`` (statements on ``conn``) run so that Ctrl-C stops it: SQLite holds the calling
    thread in C until a statement ends, so Python could not raise KeyboardInterrupt for minutes. In
    the main thread, ``work`` runs in a worker thread while the main thread waits; on
    KeyboardInterrupt it calls ``conn.interrupt()`` (the running statement fails with "interrupted"),
    waits for the worker and re-raises. Elsewhere (no signals arrive there) ``work()`` runs directly.
    Returns what ``work`` returns; raises what it raises.
    """
    if threading.current_thread() is not threading.main_thread():
        return work()
    box: dict = {}

    def target():
        try:
            box["value"] = work()
        except BaseException as e:  # handed to the waiting thread
            box["error"] = e

    worker = threading.Thread(target=target, name="trackio-query", daemon=True)
    worker.start()
    try:
        worker.join()
    except KeyboardInterrupt:
        conn.interrupt()
        worker.join()
        raise
    if "error" in box:
        raise box.pop("error")
    return box["value"]


def run_query(path: Path, sql: str, max_rows: int = MAX_ROWS, text_factory=None) -> QueryResult:
    """Run one read-only statement against the project file at ``path``; Ctrl-C stops it at once
    (:func:`interruptible`). ``text_factory``: how TEXT cells are decoded (see
    :func:`trackio.store.reader.connect_reader`).

    Raises:
        QueryError: with the contract's message: empty SQL, a statement not starting with
            ``select``/``with``/``pragma``, several statements, more than ``max_rows`` rows,
            ``not authorized``, or SQLite's own message for any other error.
        ProjectUnreadable: the file is not readable SQLite.
    """
    from .reader import connect_reader

    text = clean_sql(sql)
    if not text:
        raise QueryError("Query cannot be empty.")
    if not text.lower().startswith(("select", "with", "pragma")):
        raise QueryError("Only read-only SELECT, WITH, and safe PRAGMA queries are supported.")
    conn = connect_reader(path, text_factory)
    try:
        # json_each/json_tree declare their virtual tables on first use, which the authorizer would
        # refuse; declare them before it is installed.
        conn.execute("SELECT 1 FROM json_each('[]'), json_tree('[]')").fetchall()
        conn.set_authorizer(_authorize)

        def execute():
            cur = conn.execute(text)
            return cur.description, (cur.fetchmany(max_rows + 1) if cur.description else [])

        try:
            description, raw = interruptible(conn, execute)
        except (sqlite3.Error, sqlite3.Warning) as e:
            # Several statements: sqlite3.Warning (Python ≤ 3.11) or ProgrammingError (3.12+), both
            # "You can only execute one statement at a time."
            raise QueryError(str(e)) from None
        columns = unique_columns([d[0] for d in description]) if description else []
        if len(raw) > max_rows:
            raise QueryError(f"Query returned more than {max_rows} rows. Refine the query or add a LIMIT clause.")
        rows = [tuple(_cell(v) for v in r) for r in raw]
    finally:
        conn.close()
    return QueryResult(text, columns, rows)
