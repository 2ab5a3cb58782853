"""Read-only access to project files, shared by the CLI, the TUI and the web export.

Readers open ``file:<db>?mode=ro`` with ``query_only`` and a 30 s busy timeout (contract §2.6): they
never change the journal mode or the schema, and never hold a read transaction between calls. Rows
written by upstream trackio (JSON as BLOB, nested objects) are decoded and flattened on read
(:mod:`trackio.store.decode`), so every front end sees the same metric names.

Every function takes the data directory as a parameter (default: :func:`~trackio.store.paths.data_dir`),
so a front end can read a local directory laid out like ``TRACKIO_DIR`` (e.g. a Space's data fetched
by ``--space``) through the same path. This module is the one import front ends need: it re-exports
the metric readers (:mod:`.readmetrics`) and the read-only query runner (:mod:`.readquery`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote_from_bytes

from .decode import decode_json, decode_row, finite, flatten
from .paths import canon, data_dir
from .runs import RunRow, columns, project_runs, run_id_expr, tables
from .timefmt import parse_ts, ts_key


class ProjectNotFound(LookupError):
    """No ``<canon(P)>.db`` file for the project in the data directory."""


class ProjectUnreadable(RuntimeError):
    """The project file exists but is not a readable SQLite database; the message names the file."""


class RunNotFound(LookupError):
    """``--run`` matches neither a run id nor a run name of the project."""


def lenient_text(data: bytes) -> str:
    """A ``text_factory`` that decodes TEXT as UTF-8 with ``errors="replace"`` (U+FFFD for each bad
    byte), so one invalid value cannot make a whole project unreadable. It costs a Python call per
    text cell: front ends that read in bulk (the TUI) keep SQLite's strict default."""
    return data.decode("utf-8", "replace")


def _open_ro(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA query_only=1")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def connect_reader(path: Path, text_factory=None) -> sqlite3.Connection:
    """Open ``path`` read-only (autocommit, ``query_only``, ``busy_timeout=30000``).

    A WAL file can only be read with its ``-shm`` index, which SQLite creates beside it. In a place
    this process cannot write (a read-only mount, a directory without write permission) and without
    those files, the open fails with "unable to open database file"; the file is then opened with
    ``immutable=1`` (no locks, no sidecar files: no writer can be working there either), as
    sqlite.org/uri.html#uriimmutable describes. ``text_factory`` (e.g. :func:`lenient_text`)
    replaces SQLite's strict UTF-8 decoding of TEXT.

    Raises:
        ProjectUnreadable: the file cannot be opened as SQLite (message: ``<path>: <reason>``).
    """
    path = Path(path)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        try:
            conn = _open_ro(uri)
        except sqlite3.OperationalError:
            if os.access(path.parent, os.W_OK):
                raise
            conn = _open_ro(uri + "&immutable=1")
    except sqlite3.DatabaseError as e:
        raise ProjectUnreadable(f"{path}: {e}") from None
    if text_factory is not None:
        conn.text_factory = text_factory
    return conn


def file_problem(path: Path, uri: str | None = None) -> str | None:
    """Why ``path`` cannot be a SQLite database (``None`` when it can), as SQLite itself reports it.

    The check asks SQLite for the header's schema version with ``immutable=1``: the header is read
    and validated, no locks are taken and no ``-wal``/``-shm`` files are created, so listing projects
    leaves nothing behind and costs little per file (a damaged schema shows when the project is
    read). Only when that fails is the file opened the usual way (``mode=ro``, with locks, the schema
    parsed), so a read that raced a checkpoint is not taken for corruption and the reason is SQLite's.
    ``uri``: the file's ``file:`` URI when the caller already has it. The file is never opened with plain ``open()``: closing it would
    release every POSIX lock this process holds on it (including a live run's writer connection),
    which is how SQLite files get corrupted (sqlite.org/howtocorrupt.html §2.2). An empty file counts
    as an (empty) database, as SQLite treats it.
    """
    uri = uri or Path(path).resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
            return None
        finally:
            conn.close()
    except sqlite3.Error:
        pass
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30.0)
    except sqlite3.Error as e:
        return str(e)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        return f"not a SQLite database ({e})" if "not a database" in str(e) else str(e)
    finally:
        conn.close()
    return None


def list_projects(directory: Path | None = None) -> list[str]:
    """Canonical stems of the ``*.db`` files in the data directory, sorted (missing dir → ``[]``)."""
    d = directory or data_dir()
    try:
        with os.scandir(d) as entries:  # no stat per file (Path.iterdir + is_file costs one each)
            return sorted(e.name[:-3] for e in entries
                          if e.name.endswith(".db") and e.name != ".db" and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []


def scan_projects(directory: Path | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """Split the ``*.db`` files into readable projects and problems.

    Returns ``(names, problems)``: the sorted stems whose header is SQLite's (or empty), and
    ``(path, reason)`` for each other ``.db`` file (e.g. a corrupt or foreign file), so a front end
    can report it and still list the rest.
    """
    d = directory or data_dir()
    names, problems = [], []
    stems = list_projects(d)
    base = d.resolve().as_uri() if stems else ""
    for name in stems:
        path = d / f"{name}.db"
        problem = file_problem(path, f"{base}/{quote_from_bytes(os.fsencode(name))}.db")
        if problem:
            problems.append((str(path), problem))
        else:
            names.append(name)
    return names, problems


def open_project(project: str, directory: Path | None = None) -> sqlite3.Connection:
    """Open the project's file read-only.

    Raises:
        ProjectNotFound: no file for ``canon(project)``.
        ProjectUnreadable: the file is not readable SQLite (message names the file).
    """
    path = (directory or data_dir()) / f"{canon(project)}.db"
    if not path.is_file():
        raise ProjectNotFound(project)
    return connect_reader(path)


def resolve_run(runs: list[RunRow], ref: str) -> tuple[RunRow, list[RunRow]]:
    """Pick the run a ``--run`` argument means (contract §4.1).

    ``runs`` is :func:`~trackio.store.runs.project_runs` output (creation order). A run whose id is
    ``ref`` wins; else the newest run named ``ref``. Returns ``(run, same_named)`` where
    ``same_named`` lists every run of that name when there are several (else ``[]``).

    Raises:
        RunNotFound: no run has that id or name.
    """
    for r in runs:
        if r.id == ref:
            return r, []
    named = [r for r in runs if r.name == ref]
    if not named:
        raise RunNotFound(ref)
    return named[-1], (named if len(named) > 1 else [])


def read_config(conn: sqlite3.Connection, run_id: str) -> dict | None:
    """The run's stored config dict in stored order (``_`` keys included); ``None`` if none."""
    if "configs" not in tables(conn):
        return None
    row = conn.execute(f"SELECT config FROM configs WHERE {run_id_expr(conn, 'configs')} = ? "
                       "ORDER BY id DESC LIMIT 1", (run_id,)).fetchone()
    cfg = decode_json(row[0]) if row else None
    return cfg if isinstance(cfg, dict) else None


def run_stats(conn: sqlite3.Connection, run_id: str) -> tuple[int, int | None]:
    """``(num_logs, last_step)`` of a run: its ``metrics`` row count (duplicate steps count twice)
    and max step (``None`` without rows), through the index ``idx_metrics_run_step``."""
    if "metrics" not in tables(conn):
        return 0, None
    n, last = conn.execute(f"SELECT COUNT(*), MAX(step) FROM metrics WHERE {run_id_expr(conn, 'metrics')} = ?",
                           (run_id,)).fetchone()
    return n, last


def last_step(conn: sqlite3.Connection, runs: list[RunRow]) -> int | None:
    """Max step over all runs (one index seek per run), ``None`` when there are no metric rows."""
    if "metrics" not in tables(conn):
        return None
    rid = run_id_expr(conn, "metrics")
    best = None
    for r in runs:
        (m,) = conn.execute(f"SELECT MAX(step) FROM metrics WHERE {rid} = ?", (r.id,)).fetchone()
        if m is not None and (best is None or m > best):
            best = m
    return best


LEVELS = ("info", "warn", "error")


def read_alerts(conn: sqlite3.Connection, run_id: str | None = None, level: str | None = None,
                since: str | None = None) -> list[dict]:
    """Alerts of a project, newest first (timestamp instant descending, then ``id`` descending).

    Filters: ``run_id``; ``level`` (exact, lowercase); ``since`` an ISO 8601 timestamp, keeping alerts
    strictly after that instant (raises ValueError if it does not parse). Each alert is a dict with
    the keys ``timestamp, run, run_id, title, text, level, step, alert_id`` (contract §4.6);
    ``alert_id`` is ``None`` for rows written before that column existed.
    """
    if "alerts" not in tables(conn):
        return []
    cols = columns(conn, "alerts")
    rid = run_id_expr(conn, "alerts")
    level_sql = "lower(level)" if "level" in cols else "'warn'"
    step_sql = "step" if "step" in cols else "NULL"
    aid_sql = "alert_id" if "alert_id" in cols else "NULL"
    where, args = [], []
    if run_id is not None:
        where.append(f"{rid} = ?")
        args.append(run_id)
    if level is not None:
        where.append(f"{level_sql} = ?")
        args.append(level.lower())
    sql = (f"SELECT id, timestamp, run_name, {rid}, title, text, {level_sql}, {step_sql}, {aid_sql} FROM alerts"
           + (f" WHERE {' AND '.join(where)}" if where else ""))
    rows = conn.execute(sql, args).fetchall()
    if since is not None:
        cut = parse_ts(since).timestamp()
        rows = [r for r in rows if ts_key(r[1]) > cut]
    rows.sort(key=lambda r: (ts_key(r[1]), r[0]), reverse=True)
    return [{"timestamp": ts, "run": name, "run_id": r_id, "title": title, "text": text, "level": lvl,
             "step": step, "alert_id": aid} for _, ts, name, r_id, title, text, lvl, step, aid in rows]


_LAZY = {name: "readmetrics" for name in ("Window", "metric_exists", "metric_names", "metric_values",
                                          "metric_values_json", "snapshot", "system_entries")}
_LAZY.update({name: "readquery" for name in ("QueryError", "QueryResult", "run_query")})


def __getattr__(name: str):
    # The metric readers and the query runner are re-exported here (the one import front ends need)
    # but loaded on first use, so a command that lists projects does not pay for them.
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__package__}.{mod}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ProjectNotFound", "ProjectUnreadable", "RunNotFound", "RunRow", "LEVELS", "Window",
    "QueryError", "QueryResult", "connect_reader", "lenient_text", "file_problem", "list_projects",
    "scan_projects", "open_project", "project_runs", "resolve_run", "read_config", "run_stats", "last_step",
    "read_alerts", "metric_names", "metric_exists", "metric_values", "metric_values_json", "snapshot",
    "system_entries", "run_query", "decode_json", "decode_row", "flatten", "finite",
]


def read_configs(conn: sqlite3.Connection) -> dict[str, dict]:
    """Stored config of every run (``run_id`` → dict; unreadable configs become ``{}``)."""
    if "configs" not in tables(conn):
        return {}
    cid = run_id_expr(conn, "configs")
    out = {}
    for rid, raw in conn.execute(f"SELECT {cid}, config FROM configs ORDER BY id"):
        cfg = decode_json(raw)
        out[rid] = cfg if isinstance(cfg, dict) else {}
    return out
