"""The on-disk schema (contract §2.2–2.3) and the writer connection's set-up.

Fresh files get the exact upstream DDL plus our ``runs`` table and ``PRAGMA user_version = 2``. Files
written by older trackio versions are inspected and migrated with sqlite-utils (imported only then, so
neither ``import trackio`` nor a fresh ``init`` pays for it).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

UPSTREAM_DDL = """
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,
  run_name TEXT NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL,
  log_id TEXT, space_id TEXT);
CREATE TABLE IF NOT EXISTS configs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, run_name TEXT NOT NULL,
  config TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE(run_id));
CREATE TABLE IF NOT EXISTS system_metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,
  run_name TEXT NOT NULL, metrics TEXT NOT NULL, log_id TEXT, space_id TEXT);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,
  run_name TEXT NOT NULL, title TEXT NOT NULL, text TEXT, level TEXT NOT NULL DEFAULT 'warn',
  step INTEGER, alert_id TEXT);
CREATE TABLE IF NOT EXISTS project_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

UPSTREAM_INDEXES = """
CREATE INDEX IF NOT EXISTS idx_metrics_run_step ON metrics(run_id, step);
CREATE INDEX IF NOT EXISTS idx_metrics_run_timestamp ON metrics(run_id, timestamp);
CREATE UNIQUE INDEX IF NOT EXISTS idx_metrics_log_id ON metrics(log_id) WHERE log_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_metrics_pending ON metrics(space_id) WHERE space_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_configs_run_name ON configs(run_name);
CREATE INDEX IF NOT EXISTS idx_system_metrics_run_timestamp ON system_metrics(run_id, timestamp);
CREATE UNIQUE INDEX IF NOT EXISTS idx_system_metrics_log_id ON system_metrics(log_id) WHERE log_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_system_metrics_pending ON system_metrics(space_id) WHERE space_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_alerts_run ON alerts(run_id);
CREATE INDEX IF NOT EXISTS idx_alerts_timestamp ON alerts(timestamp);
CREATE UNIQUE INDEX IF NOT EXISTS idx_alerts_alert_id ON alerts(alert_id) WHERE alert_id IS NOT NULL;
"""

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  group_name TEXT,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  heartbeat_at TEXT,
  pid INTEGER,
  host TEXT);
CREATE INDEX IF NOT EXISTS idx_runs_name ON runs(name);
"""

# Columns every table we write to must have, with the type to add them as when an older file lacks
# them (contract §2.8). ``run_id`` is back-filled from ``run_name``, the rule readers use for such files.
_REQUIRED_COLUMNS = {
    "metrics": {"run_id": str, "log_id": str, "space_id": str},
    "configs": {"run_id": str},
    "system_metrics": {"run_id": str, "log_id": str, "space_id": str},
    "alerts": {"run_id": str, "level": str, "step": int, "alert_id": str},
}


def connect_writer(path: Path) -> sqlite3.Connection:
    """Open ``path`` for writing with the contract's pragmas (§2.6) in autocommit mode.

    The connection may be handed to another thread (``check_same_thread=False``); callers make sure
    only one thread uses it at a time. Raises ``sqlite3.Error`` when the file cannot be opened.
    """
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    _retry(lambda: _set_wal(conn))
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-20000")
    return conn


def _set_wal(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode=WAL")


def _retry(fn, attempts: int = 200):
    """Run ``fn``, retrying ``database is locked`` errors with a growing pause (up to ~1 min)."""
    delay = 0.01
    for i in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as e:
            if not is_busy(e) or i == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    return None


def is_busy(error: BaseException) -> bool:
    """True when ``error`` is SQLite's "database is locked/busy" (a retryable condition)."""
    text = str(error).lower()
    return "locked" in text or "busy" in text


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create or complete the schema in one ``BEGIN IMMEDIATE`` transaction.

    A file with no tables gets the upstream DDL, our ``runs`` table and ``user_version = 2``. A file
    that already has tables keeps its ``user_version``; missing tables and indexes are added, and
    upstream tables missing columns we write are migrated (see :func:`_migrate`).
    Raises ``sqlite3.DatabaseError`` for a file that is not SQLite or cannot be migrated.
    """

    def work():
        conn.execute("BEGIN IMMEDIATE")
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not names:
                conn.execute("PRAGMA user_version = 2")
            elif not {"metrics", "runs"} <= names or _needs_migration(conn, names):
                _migrate(conn, names)
            if not {"metrics", "configs", "system_metrics", "alerts", "project_metadata", "runs"} <= names:
                for stmt in (UPSTREAM_DDL + RUNS_DDL).split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
            # Indexes are checked every time: an older file may have the tables but not all indexes.
            have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
            for stmt in (UPSTREAM_INDEXES + RUNS_DDL).split(";"):
                stmt = stmt.strip()
                if stmt.startswith("CREATE") and "INDEX" in stmt:
                    idx = stmt.split("EXISTS", 1)[1].split()[0]
                    if idx not in have:
                        conn.execute(stmt)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    _retry(work)


def _needs_migration(conn: sqlite3.Connection, names: set[str]) -> bool:
    for table, cols in _REQUIRED_COLUMNS.items():
        if table in names:
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if not set(cols) <= have:
                return True
    return False


def _migrate(conn: sqlite3.Connection, names: set[str]) -> None:
    """Add the columns an older upstream file lacks, inside the caller's transaction.

    Uses sqlite-utils for introspection and ``ALTER TABLE … ADD COLUMN``. ``run_id`` is back-filled
    with ``run_name`` (how readers identify runs in such files, contract §2.8).
    """
    import sqlite_utils

    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    for table, cols in _REQUIRED_COLUMNS.items():
        if table not in names:
            continue
        have = db[table].columns_dict
        for col, typ in cols.items():
            if col not in have:
                db[table].add_column(col, typ)
                if col == "run_id":
                    conn.execute(f"UPDATE {table} SET run_id = run_name WHERE run_id IS NULL")
