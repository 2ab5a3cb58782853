"""Read a project back from a Space that ``trackio sync`` pushed to: a data source beside the local one.

:func:`fetch_space` downloads the Space's data files with ``huggingface_hub`` and rebuilds
``<canon(P)>.db`` (the same schema as a local project) in a cache folder laid out like
``TRACKIO_DIR``, so the CLI and the TUI read a Space exactly as they read local data: pass the
returned folder as their data directory. The cache is updated in place: raw chunk files are
append-only (:mod:`trackio.store.spacefmt`), so a later fetch downloads only the files past the rows
already ingested, and a fetch at an unchanged Space commit downloads nothing.

What has been read of each run (rows per table, the manifest revision) is kept in the cache database
itself (``project_metadata`` key ``remote_run:<run id>``) and committed in the same transaction as
the rows it counts, so a read that fails or is interrupted part-way never ingests a row twice.

Every Hub call is bounded in time and retried on 408/429/5xx and network errors, honouring
``Retry-After`` (:mod:`trackio.store.hubcall`), for at most :data:`CALL_WINDOW` seconds per call, so
a Hub that hangs or keeps failing ends the read with an error while a big read that makes progress
is never cut short.
With ``HF_HUB_OFFLINE=1`` the cached copy is used as it is.

A run the Space reports as ``running`` keeps reading as running while its machine's last heartbeat
is at most :data:`REMOTE_FRESH` seconds old (background syncs refresh it every few minutes);
otherwise it reads as crashed, as a local run with a stale heartbeat does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import spacefmt as fmt
from .paths import canon
from . import hubcall
from .hubcall import call, status_of as _status
from .spaceid import parse_space_id
from .timefmt import now_ts, ts_key

__all__ = ["fetch_space", "refresh_space", "space_of", "parse_space_id", "cache_root", "SpaceNotFound",
           "SpaceUnavailable"]

REMOTE_FRESH = 330.0  # seconds: the syncing machine's keep-alive period (300 s) plus slack
CALL_WINDOW = 60.0  # seconds one Hub call may take, retries included
LOCK_TIMEOUT = 600.0  # seconds to wait for another process updating the same cache
STATE_VERSION = 2  # state.json layout; a cache written by another layout is rebuilt
_SEEN = "remote_run:"  # project_metadata key prefix of a run's read progress
_TOKENS: dict[str, str | None] = {}  # cache folder -> the token given for it in this process (never stored)


class SpaceNotFound(LookupError):
    """The Space does not exist, is not visible with this token, or holds no trackio data."""

    def __init__(self, space_id: str):
        super().__init__(f"Space '{space_id}' has no trackio data.")
        self.space_id = space_id


class SpaceUnavailable(RuntimeError):
    """The Hub could not be reached or refused for another reason (network, 5xx, 429, offline mode)."""


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/trackio/spaces`` (default ``~/.cache/trackio/spaces``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "trackio" / "spaces"


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _reason(e: BaseException) -> str:
    status = _status(e)
    if status is not None:
        return f"HTTP {status}"
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return re.sub(r"hf_[A-Za-z0-9]{8,}", "hf_***", text)


def _offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return False


def fetch_space(space_id_or_url: str, token: str | None = None, max_age: float = 0.0) -> Path:
    """Bring the Space's trackio data up to date in the local cache; return the cache folder.

    The folder holds ``<canon(P)>.db`` for the Space's project (read it like ``TRACKIO_DIR``).
    ``token`` (default: ``HF_TOKEN`` / the saved login) is needed for private Spaces; it is only sent
    to the Hub and kept in this process's memory for :func:`refresh_space`, never written anywhere.
    ``max_age`` (seconds): when the cache was brought up to date that recently, return it without
    asking the Hub (a TUI refreshing every few seconds should pass ~30, as a background sync lands at
    most once a minute). With ``HF_HUB_OFFLINE=1`` a cached copy is returned as it is.

    Raises:
        ValueError: not a Space id or URL.
        SpaceNotFound: ``Space 'ID' has no trackio data.`` (missing, not visible, or not a trackio Space).
        SpaceUnavailable: the Hub could not be reached, answered with an error, or did not answer
            within :data:`CALL_WINDOW` seconds; offline mode without a cached copy.
    """
    space_id = parse_space_id(space_id_or_url)
    try:
        from filelock import FileLock, Timeout
        from huggingface_hub import HfApi
    except ImportError:
        raise SpaceUnavailable("Reading a Space needs the huggingface_hub package (pip install huggingface_hub).") \
            from None
    folder = cache_root() / space_id.replace("/", "--")
    folder.mkdir(parents=True, exist_ok=True)
    _TOKENS[str(folder)] = token
    state = _load_state(folder)
    cached = bool(state.get("db")) and (folder / state["db"]).is_file()
    if cached and (_offline() or (max_age > 0 and time.time() - state.get("checked", 0) < max_age)):
        _refresh_heartbeats(folder / state["db"])
        return folder
    if _offline():
        raise SpaceUnavailable(f"Cannot read Space '{space_id}': offline mode is enabled (HF_HUB_OFFLINE=1) and "
                               f"there is no cached copy of it.")
    api = HfApi(endpoint=_endpoint(), token=token)
    try:
        info = call(lambda: api.space_info(space_id, timeout=hubcall.CALL_TIMEOUT), _window())
    except Exception as e:
        if _status(e) in (401, 403, 404) or type(e).__name__ in ("RepositoryNotFoundError", "GatedRepoError"):
            raise SpaceNotFound(space_id) from None
        raise SpaceUnavailable(f"Could not read Space '{space_id}': {_reason(e)}") from None
    try:
        with FileLock(str(folder / ".lock"), timeout=LOCK_TIMEOUT):
            _update(api, space_id, info.sha, folder)
    except Timeout:
        raise SpaceUnavailable(f"Could not read Space '{space_id}': another trackio process is still updating "
                               f"its cached copy ({folder}).") from None
    return folder


def space_of(folder) -> str | None:
    """The Space id a cache folder made by :func:`fetch_space` holds, else None (a local data dir)."""
    state = _load_state(Path(folder))
    space = state.get("space_id")
    return space if isinstance(space, str) else None


def refresh_space(folder, max_age: float = 30.0) -> bool:
    """Update a cache folder from its Space (:func:`fetch_space` with ``max_age`` and the token given
    for it earlier in this process). False when ``folder`` is not a Space cache.

    Raises:
        SpaceNotFound, SpaceUnavailable: as :func:`fetch_space`.
    """
    space = space_of(folder)
    if space is None:
        return False
    fetch_space(space, _TOKENS.get(str(Path(folder))), max_age=max_age)
    return True


def _mark_checked(folder: Path, state: dict) -> None:
    state["checked"] = time.time()
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / "state.json")


def _load_state(folder: Path) -> dict:
    """state.json (``version``, ``sha``, ``db``, ``space_id``, ``project``, ``checked``); ``{}`` when
    missing, unreadable or of another layout."""
    try:
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("version") == STATE_VERSION else {}


def _drop_old_layout(folder: Path) -> None:
    """Remove a cache written with another state layout (its progress is not in the database)."""
    try:
        old = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return
    if not isinstance(old, dict) or old.get("version") != STATE_VERSION:
        for p in folder.glob("*.db*"):
            p.unlink(missing_ok=True)
        (folder / "state.json").unlink(missing_ok=True)


def _window() -> float:
    """The deadline (``time.monotonic()``) of a call starting now."""
    return time.monotonic() + CALL_WINDOW


def _update(api, space_id: str, sha: str, folder: Path) -> None:
    _drop_old_layout(folder)
    state = _load_state(folder)
    db_name = state.get("db")
    if state.get("sha") == sha and db_name and (folder / db_name).is_file():
        _mark_checked(folder, state)
        _refresh_heartbeats(folder / db_name)
        return
    try:
        files = set(call(lambda: api.list_repo_files(space_id, repo_type="space", revision=sha), _window()))
    except Exception as e:
        raise SpaceUnavailable(f"Could not list Space '{space_id}': {_reason(e)}") from None
    if fmt.PROJECT_FILE not in files:
        raise SpaceNotFound(space_id)
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    try:
        def get(path: str) -> bytes:
            def once():
                local = api.hf_hub_download(space_id, path, repo_type="space", revision=sha, local_dir=str(incoming))
                return Path(local).read_bytes()
            try:
                return call(once, _window(), limit=False)  # downloads time out by themselves
            except Exception as e:
                raise SpaceUnavailable(f"Could not download '{path}' from Space '{space_id}': {_reason(e)}") from None

        try:
            _, project = fmt.unwrap(get(fmt.PROJECT_FILE))
            name = project["project"]
            runs = [r for r in project.get("runs", []) if isinstance(r, dict) and isinstance(r.get("id"), str)]
        except (ValueError, KeyError, TypeError):
            raise SpaceNotFound(space_id) from None
        db_name = f"{canon(name)}.db"
        if state.get("db") not in (None, db_name):  # the Space now holds another project: start over
            for p in folder.glob("*.db*"):
                p.unlink(missing_ok=True)
            state = {}
        from .schema import connect_writer, ensure_schema

        conn = connect_writer(folder / db_name)
        try:
            ensure_schema(conn)
            for summary in runs:
                _ingest_run(conn, summary, files, get)
        finally:
            conn.close()
        state.update({"version": STATE_VERSION, "sha": sha, "db": db_name, "space_id": space_id, "project": name})
        _mark_checked(folder, state)
        _refresh_heartbeats(folder / db_name)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def _seen(conn, rid: str) -> dict:
    row = conn.execute("SELECT value FROM project_metadata WHERE key = ?", (_SEEN + rid,)).fetchone()
    try:
        seen = json.loads(row[0]) if row else {}
    except ValueError:
        seen = {}
    return seen if isinstance(seen, dict) else {}


def _save_seen(conn, rid: str, seen: dict) -> None:
    conn.execute("INSERT INTO project_metadata (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                 "value=excluded.value", (_SEEN + rid, json.dumps(seen)))


def _ingest_run(conn, summary: dict, files: set[str], get) -> None:
    rid = summary["id"]
    rdir = fmt.run_dir(rid)
    seen = _seen(conn, rid)
    seen["heartbeat_at"] = summary.get("heartbeat_at")
    seen["status"] = summary.get("status")
    path = fmt.run_file(rid)
    if (seen.get("rev") == summary.get("rev") and seen.get("rev") is not None) or path not in files:
        conn.execute("BEGIN IMMEDIATE")
        try:
            _save_seen(conn, rid, seen)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return
    _, manifest = fmt.unwrap(get(path))
    rows = dict(seen.get("rows") or {})
    new: dict[str, list] = {}
    wanted = []
    for table, chunks in (manifest.get("raw") or {}).items():
        if table not in fmt.RAW_TABLES:
            continue
        have = int(rows.get(table, 0))
        for name, first, end in chunks:
            if end > have and f"{rdir}/raw/{name}" in files and fmt.parse_raw_name(name):
                wanted.append((table, name, first, end))
    with ThreadPoolExecutor(max_workers=8) as pool:
        blobs = list(pool.map(lambda w: get(f"{rdir}/raw/{w[1]}"), wanted))
    for (table, name, first, end), blob in zip(wanted, blobs):
        have = int(rows.get(table, 0))
        if first > have:  # a gap: the Space lacks rows before this file; stop here for this table
            continue
        lines = blob.decode("utf-8").splitlines()[have - first:end - first]
        new.setdefault(table, []).extend(lines)
        rows[table] = have + len(lines)
    seen.update(rows=rows, rev=summary.get("rev"))
    _write_run(conn, rid, manifest.get("name") or summary.get("name") or rid, manifest, new, seen)


def _write_run(conn, rid: str, name: str, manifest: dict, new: dict[str, list], seen: dict) -> None:
    """Insert a run's new rows, its config and status, and its read progress ``seen``, in one
    transaction (so the progress never counts rows that are not there, or misses rows that are)."""
    from .writer import encode_json

    metrics, system, alerts = [], [], []
    for line in new.get("metrics", []):
        try:
            step, ts, obj = json.loads(line)
            metrics.append((rid, ts, name, int(step), encode_json(obj)))
        except (ValueError, TypeError):
            continue
    for line in new.get("system_metrics", []):
        try:
            ts, obj = json.loads(line)
            system.append((rid, ts, name, encode_json(obj)))
        except (ValueError, TypeError):
            continue
    for line in new.get("alerts", []):
        try:
            ts, title, text, level, step, alert_id = json.loads(line)
            alerts.append((rid, ts, name, title, text, level or "warn", step, alert_id))
        except (ValueError, TypeError):
            continue
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)", metrics)
        conn.executemany("INSERT INTO system_metrics (run_id, timestamp, run_name, metrics) VALUES (?,?,?,?)", system)
        conn.executemany("INSERT INTO alerts (run_id, timestamp, run_name, title, text, level, step, alert_id) "
                         "VALUES (?,?,?,?,?,?,?,?)", alerts)
        created = manifest.get("created_at") or now_ts()
        if conn.execute("UPDATE configs SET config=?, run_name=? WHERE run_id=?",
                        (encode_json(config), name, rid)).rowcount == 0:
            conn.execute("INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?,?,?,?)",
                         (rid, name, encode_json(config), created))
        status = manifest.get("status")
        if status in ("running", "finished", "crashed"):
            conn.execute("INSERT INTO runs (id, name, group_name, status, created_at, finished_at, heartbeat_at, pid, host) "
                         "VALUES (?,?,?,?,?,?,?,NULL,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                         "group_name=excluded.group_name, status=excluded.status, finished_at=excluded.finished_at",
                         (rid, name, manifest.get("group"), status, created, manifest.get("finished_at"), created,
                          "space"))
        _save_seen(conn, rid, seen)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _refresh_heartbeats(db: Path) -> None:
    """Give running runs whose remote heartbeat is fresh a heartbeat of now (see module doc)."""
    from .schema import connect_writer

    conn = connect_writer(db)
    try:
        fresh, stale = [], []
        for key, value in conn.execute("SELECT key, value FROM project_metadata WHERE key >= ? AND key < ?",
                                       (_SEEN, _SEEN[:-1] + chr(ord(_SEEN[-1]) + 1))):
            try:
                seen = json.loads(value)
            except ValueError:
                continue
            if not isinstance(seen, dict) or seen.get("status") != "running":
                continue
            beat = seen.get("heartbeat_at")
            age = time.time() - ts_key(beat) if isinstance(beat, str) else float("inf")
            (fresh if age <= REMOTE_FRESH else stale).append((key[len(_SEEN):], beat))
        if not fresh and not stale:
            return
        now = now_ts()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("UPDATE runs SET heartbeat_at=? WHERE id=?", [(now, rid) for rid, _ in fresh])
            conn.executemany("UPDATE runs SET heartbeat_at=? WHERE id=?", [(beat, rid) for rid, beat in stale])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
