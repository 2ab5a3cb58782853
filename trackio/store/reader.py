"""Read-only access to a project file, shared by the CLI, the TUI and the web export.

Readers open ``file:<db>?mode=ro`` with ``query_only`` and a 30 s busy timeout (contract §2.6): they
never change the journal mode or the schema, and never hold a read transaction between calls. Rows
written by upstream trackio (JSON as BLOB, nested objects) are decoded and flattened here, so every
front end sees the same metric names.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .paths import canon, data_dir


class ProjectNotFound(LookupError):
    """No ``<canon(P)>.db`` file for the project in the data directory."""


class ProjectUnreadable(RuntimeError):
    """The project file exists but is not a readable SQLite trackio database."""


def connect_reader(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only (autocommit, ``query_only``, ``busy_timeout=30000``).

    Raises:
        ProjectUnreadable: the file cannot be opened as SQLite.
    """
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA query_only=1")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        raise ProjectUnreadable(str(e)) from None
    return conn


def list_projects(directory: Path | None = None) -> list[str]:
    """Canonical stems of the ``*.db`` files in the data directory, sorted (missing dir → ``[]``)."""
    d = directory or data_dir()
    try:
        return sorted(p.stem for p in d.iterdir() if p.suffix == ".db" and p.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []


def open_project(project: str, directory: Path | None = None) -> sqlite3.Connection:
    """Open the project's file read-only.

    Raises:
        ProjectNotFound: no file for ``canon(project)``.
        ProjectUnreadable: the file is not readable SQLite.
    """
    path = (directory or data_dir()) / f"{canon(project)}.db"
    if not path.is_file():
        raise ProjectNotFound(project)
    return connect_reader(path)


def decode_json(raw):
    """Decode a JSON column value stored as TEXT (ours) or BLOB (upstream); ``None`` if invalid."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def flatten(obj: dict, prefix: str = "", out: dict | None = None) -> dict:
    """Flatten nested mappings into ``/``-joined keys (contract §1.6 rule, applied on read).

    Mappings with a ``_type`` key are media values and stay whole; an empty nested mapping gives no
    key; on a collision the last value wins.
    """
    out = {} if out is None else out
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "_type" not in v:
            flatten(v, key + "/", out)
        else:
            out.pop(key, None)
            out[key] = v
    return out


def decode_row(raw) -> dict:
    """A stored ``metrics`` cell as a flat dict (``{}`` when unreadable or not an object)."""
    obj = decode_json(raw)
    if not isinstance(obj, dict):
        return {}
    for v in obj.values():
        if isinstance(v, dict) and "_type" not in v:
            return flatten(obj)
    return obj
