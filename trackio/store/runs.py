"""Runs of a project: listing (contract §2.5), status, and picking the run an ``init`` attaches to.

A project's runs are the union of ``runs.id``, ``configs.run_id`` and the distinct ``metrics.run_id``
(the last two cover files written by upstream trackio, which has no ``runs`` table).
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from typing import NamedTuple

from .timefmt import parse_ts, ts_key

STALE_AFTER = 60.0  # seconds without a heartbeat after which a running run reads as crashed

ADJECTIVES = ("dainty", "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively",
              "merry", "nice", "proud", "quick", "silly", "tender", "witty", "zealous", "bright", "bold")
NOUNS = ("sunset", "forest", "river", "mountain", "breeze", "meadow", "ocean", "valley", "sky", "field",
         "cloud", "star", "moon", "lake", "canyon", "glade", "harbor", "island", "prairie", "summit")


class RunRow(NamedTuple):
    """One run as readers see it. Times are stored timestamp strings; ``status`` is computed."""

    id: str
    name: str
    created_at: str | None
    status: str
    group: str | None
    finished_at: str | None
    heartbeat_at: str | None
    pid: int | None
    host: str | None


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """Column names of ``table`` (empty when the table does not exist)."""
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def run_id_expr(conn: sqlite3.Connection, table: str) -> str:
    """SQL for a table's run id: ``run_id``, or ``run_name`` in files older than that column."""
    return "run_id" if "run_id" in columns(conn, table) else "run_name"


def _hostname() -> str:
    # POSIX gethostname() is uname()'s nodename; that spares every CLI start importing socket (2 ms).
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    except OSError:
        return True
    return True


def compute_status(status: str | None, heartbeat_at: str | None, pid: int | None, host: str | None,
                   now: float | None = None, this_host: str | None = None) -> str:
    """A run's status from its ``runs`` row (contract §2.5).

    ``finished``/``crashed`` as stored; ``running`` turns into ``crashed`` when the heartbeat is older
    than :data:`STALE_AFTER` seconds or the writer's pid no longer exists on this host; no row →
    ``unknown``.
    """
    if status is None:
        return "unknown"
    if status != "running":
        return status
    now = time.time() if now is None else now
    if heartbeat_at is None or now - ts_key(heartbeat_at) > STALE_AFTER:
        return "crashed"
    this_host = _hostname() if this_host is None else this_host
    if pid is not None and host == this_host and not _pid_alive(int(pid)):
        return "crashed"
    return "running"


def distinct_run_ids(conn: sqlite3.Connection, table: str, col: str) -> list[str]:
    """Distinct values of ``col`` via index seeks (a loose index scan), not a full-table scan."""
    sql = (f"WITH RECURSIVE r(v) AS (SELECT MIN({col}) FROM {table} UNION ALL "
           f"SELECT (SELECT MIN({col}) FROM {table} WHERE {col} > r.v) FROM r WHERE r.v IS NOT NULL) "
           f"SELECT v FROM r WHERE v IS NOT NULL")
    return [r[0] for r in conn.execute(sql)]


def project_runs(conn: sqlite3.Connection) -> list[RunRow]:
    """Every run of the project in creation order (ties: first insertion), with computed status."""
    have = tables(conn)
    found: dict[str, list] = {}
    order = 0
    now, host = time.time(), _hostname()
    if "runs" in have:
        for rid, name, group, status, created, finished, beat, pid, rhost in conn.execute(
                "SELECT id, name, group_name, status, created_at, finished_at, heartbeat_at, pid, host "
                "FROM runs ORDER BY rowid"):
            st = compute_status(status, beat, pid, rhost, now, host)
            found[rid] = [created, order, RunRow(rid, name, created, st, group, finished, beat, pid, rhost)]
            order += 1
    if "configs" in have:
        cid = run_id_expr(conn, "configs")
        for rid, name, created, cfg in conn.execute(
                f"SELECT {cid}, run_name, created_at, config FROM configs ORDER BY id"):
            if rid in found:
                continue
            group = _group_of(cfg)
            found[rid] = [created, order, RunRow(rid, name, created, "unknown", group, None, None, None, None)]
            order += 1
    if "metrics" in have:
        mid = run_id_expr(conn, "metrics")
        for rid in distinct_run_ids(conn, "metrics", mid):
            if rid in found:
                continue
            first = conn.execute(
                f"SELECT run_name, timestamp FROM metrics WHERE {mid} = ? ORDER BY timestamp LIMIT 1", (rid,)
            ).fetchone()
            found[rid] = [first[1], order, RunRow(rid, first[0], first[1], "unknown", None, None, None, None, None)]
            order += 1
    rows = sorted(found.values(), key=lambda e: (ts_key(e[0]) if e[0] else float("inf"), e[1]))
    return [e[2] for e in rows]


def _group_of(config_text) -> str | None:
    import json

    try:
        cfg = json.loads(config_text)
        return cfg.get("_Group") if isinstance(cfg, dict) else None
    except (TypeError, ValueError):
        return None


def newest(runs: list[RunRow], name: str) -> RunRow | None:
    """The newest run named ``name`` (latest creation time; ties: the later listed)."""
    match = [r for r in runs if r.name == name]
    return match[-1] if match else None


def auto_name(taken: set[str]) -> str:
    """First ``adjectives[n % A]-nouns[n % N]-n`` not in ``taken`` (``dainty-sunset-0`` first)."""
    n = 0
    while True:
        name = f"{ADJECTIVES[n % len(ADJECTIVES)]}-{NOUNS[n % len(NOUNS)]}-{n}"
        if name not in taken:
            return name
        n += 1


def mark_crashed(conn: sqlite3.Connection, runs: list[RunRow]) -> None:
    """Store ``crashed`` for each run the table says is ``running`` but reads as crashed."""
    ids = [(r.id,) for r in runs if r.status == "crashed" and r.pid is not None]
    if ids:
        conn.executemany("UPDATE runs SET status='crashed' WHERE id=? AND status='running'", ids)


class Opened(NamedTuple):
    """Result of :func:`open_run`."""

    run_id: str
    name: str
    created_at: str
    resumed: bool
    name_taken: bool
    stored_config: dict | None
    max_step: int | None


def open_run(conn: sqlite3.Connection, name: str | None, resume: str, group: str | None,
             project: str, now: str) -> Opened:
    """Pick or create the run for ``init`` inside the caller's transaction (contract §1.2 resume table).

    Raises:
        ValueError: ``resume="must"`` and no run named ``name`` exists in ``project``.
    """
    import json

    runs = project_runs(conn)
    mark_crashed(conn, runs)
    existing = newest(runs, name) if name else None
    pid, host = os.getpid(), _hostname()
    if existing is not None and resume in ("allow", "must"):
        stored = conn.execute(f"SELECT config FROM configs WHERE {run_id_expr(conn, 'configs')} = ?",
                              (existing.id,)).fetchone()
        cfg = None
        if stored is not None:
            try:
                raw = stored[0].decode() if isinstance(stored[0], bytes) else stored[0]
                cfg = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                cfg = None
        mid = run_id_expr(conn, "metrics")
        max_step = conn.execute(f"SELECT MAX(step) FROM metrics WHERE {mid} = ?", (existing.id,)).fetchone()[0]
        created = existing.created_at or now
        if existing.status == "unknown":
            conn.execute("INSERT OR IGNORE INTO runs (id, name, group_name, status, created_at, heartbeat_at, pid, host)"
                         " VALUES (?,?,?,?,?,?,?,?)", (existing.id, existing.name, group, "running", created, now, pid, host))
        conn.execute("UPDATE runs SET status='running', finished_at=NULL, heartbeat_at=?, pid=?, host=?, "
                     "group_name=COALESCE(?, group_name) WHERE id=?", (now, pid, host, group, existing.id))
        return Opened(existing.id, existing.name, created, True, True,
                      cfg if isinstance(cfg, dict) else None, max_step)
    if resume == "must":
        raise ValueError(f"Run '{name}' does not exist in project '{project}'")
    taken = existing is not None
    if not name:
        name = auto_name({r.name for r in runs})
    run_id = uuid.uuid4().hex
    conn.execute("INSERT INTO runs (id, name, group_name, status, created_at, heartbeat_at, pid, host) "
                 "VALUES (?,?,?,?,?,?,?,?)", (run_id, name, group, "running", now, now, pid, host))
    return Opened(run_id, name, now, False, taken, None, None)


__all__ = ["RunRow", "project_runs", "compute_status", "open_run", "Opened", "auto_name", "newest",
           "run_id_expr", "columns", "tables", "parse_ts"]
