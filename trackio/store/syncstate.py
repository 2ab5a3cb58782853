"""Whether a project has data not yet pushed to its Space (contract §2.3, §4.13).

``project_metadata`` holds ``space_id`` (the sync target) and ``last_sync`` = JSON
``{"at": TS, "space_id": ..., "fingerprint": ...}``. The fingerprint changes whenever a row is added
to ``metrics``/``system_metrics``/``alerts``/``configs``, a config is updated, or a run is created or
finished; heartbeats do not change it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from .runs import tables


def fingerprint(conn: sqlite3.Connection) -> str:
    """A short string that changes whenever the project's synced content changes."""
    have = tables(conn)
    parts = []
    for table in ("metrics", "system_metrics", "alerts"):
        parts.append(str(conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]) if table in have else "-")
    digest = hashlib.sha1()
    if "configs" in have:
        for (cfg,) in conn.execute("SELECT config FROM configs ORDER BY id"):
            digest.update(cfg if isinstance(cfg, bytes) else str(cfg).encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
    parts.append(digest.hexdigest()[:16])
    if "runs" in have:
        row = conn.execute("SELECT MAX(created_at), MAX(finished_at), COUNT(*), "
                           "SUM(status = 'finished') FROM runs").fetchone()
        parts.append("|".join(str(v) for v in row))
    return ":".join(parts)


def sync_state(conn: sqlite3.Connection) -> tuple[str | None, str]:
    """``(space_id, state)`` with state ``local`` (no Space), ``synced`` or ``unsynced``."""
    if "project_metadata" not in tables(conn):
        return None, "local"
    meta = dict(conn.execute("SELECT key, value FROM project_metadata WHERE key IN ('space_id', 'last_sync')"))
    space_id = meta.get("space_id")
    if not space_id:
        return None, "local"
    try:
        last = json.loads(meta.get("last_sync") or "null")
    except ValueError:
        last = None
    if isinstance(last, dict) and last.get("space_id") == space_id and last.get("fingerprint") == fingerprint(conn):
        return space_id, "synced"
    return space_id, "unsynced"


def project_sync_state(path) -> tuple[str | None, str]:
    """:func:`sync_state` of the project file at ``path``, opened read-only for the call.

    Raises:
        trackio.store.reader.ProjectUnreadable / sqlite3.DatabaseError: the file cannot be read.
    """
    from .reader import connect_reader

    conn = connect_reader(path)
    try:
        return sync_state(conn)
    finally:
        conn.close()


def project_fingerprint(project: str, directory=None) -> str | None:
    """:func:`fingerprint` of a project (``None`` when it cannot be opened)."""
    from .reader import open_project

    try:
        conn = open_project(project, directory)
    except Exception:
        return None
    try:
        return fingerprint(conn)
    finally:
        conn.close()
