"""Read a project back from a Space that ``trackio sync`` pushed to: a data source beside the local one.

:func:`fetch_space` downloads the Space's data files with ``huggingface_hub`` and rebuilds
``<canon(P)>.db`` (the same schema as a local project) in a cache folder laid out like
``TRACKIO_DIR``, so the CLI and the TUI read a Space exactly as they read local data: pass the
returned folder as their data directory. The cache is updated in place: raw chunk files are
append-only (:mod:`trackio.store.spacefmt`), so a later fetch downloads only the files past the rows
already ingested, and a fetch at an unchanged Space commit downloads nothing.

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from . import spacefmt as fmt
from .paths import canon
from .timefmt import now_ts, ts_key

REMOTE_FRESH = 330.0  # seconds: the syncing machine's keep-alive period (300 s) plus slack
_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


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


def parse_space_id(value: str) -> str:
    """``USER/NAME`` from ``USER/NAME``, ``spaces/USER/NAME`` or a ``…/spaces/USER/NAME[/…]`` URL.

    Raises:
        ValueError: anything else (``*.hf.space`` host names cannot be turned back into an id).
    """
    text = (value or "").strip()
    if text.startswith(("http://", "https://")):
        parts = [p for p in urlsplit(text).path.split("/") if p]
        if len(parts) >= 3 and parts[0] == "spaces":
            text = f"{parts[1]}/{parts[2]}"
        else:
            raise ValueError(f"Cannot tell the Space id from '{value}': pass it as USER/NAME.")
    elif text.startswith("spaces/"):
        text = text[len("spaces/"):]
    text = text.strip("/")
    if not _ID.match(text):
        raise ValueError(f"Invalid Space id '{value}': expected USER/NAME.")
    return text


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _status(exc) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def fetch_space(space_id_or_url: str, token: str | None = None, max_age: float = 0.0) -> Path:
    """Bring the Space's trackio data up to date in the local cache; return the cache folder.

    The folder holds ``<canon(P)>.db`` for the Space's project (read it like ``TRACKIO_DIR``).
    ``token`` (default: ``HF_TOKEN`` / the saved login) is needed for private Spaces; it is only sent
    to the Hub, never written anywhere. ``max_age`` (seconds): when the cache was brought up to date
    that recently, return it without asking the Hub (a TUI refreshing every few seconds should pass
    ~30, as a background sync lands at most once a minute).

    Raises:
        ValueError: not a Space id or URL.
        SpaceNotFound: ``Space 'ID' has no trackio data.`` (missing, not visible, or not a trackio Space).
        SpaceUnavailable: the Hub could not be reached or answered with an error.
    """
    space_id = parse_space_id(space_id_or_url)
    try:
        from filelock import FileLock
        from huggingface_hub import HfApi
    except ImportError:
        raise SpaceUnavailable("Reading a Space needs the huggingface_hub package (pip install huggingface_hub).") \
            from None
    api = HfApi(endpoint=_endpoint(), token=token)
    folder = cache_root() / space_id.replace("/", "--")
    folder.mkdir(parents=True, exist_ok=True)
    if max_age > 0:
        import time

        state = _load_state(folder)
        if state.get("db") and (folder / state["db"]).is_file() and time.time() - state.get("checked", 0) < max_age:
            _refresh_heartbeats(folder / state["db"], state)
            return folder
    try:
        info = api.space_info(space_id)
    except Exception as e:
        if _status(e) in (401, 403, 404) or type(e).__name__ in ("RepositoryNotFoundError", "GatedRepoError"):
            raise SpaceNotFound(space_id) from None
        raise SpaceUnavailable(f"Could not read Space '{space_id}': {_reason(e)}") from None
    with FileLock(str(folder / ".lock")):
        _update(api, space_id, info.sha, folder)
    return folder


def _mark_checked(folder: Path, state: dict) -> None:
    import time

    state["checked"] = time.time()
    (folder / "state.json").write_text(json.dumps(state))


def _reason(e: BaseException) -> str:
    status = _status(e)
    if status is not None:
        return f"HTTP {status}"
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return re.sub(r"hf_[A-Za-z0-9]{8,}", "hf_***", text)


def _load_state(folder: Path) -> dict:
    try:
        state = json.loads((folder / "state.json").read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def _update(api, space_id: str, sha: str, folder: Path) -> None:
    state = _load_state(folder)
    db_name = state.get("db")
    if state.get("sha") == sha and db_name and (folder / db_name).is_file():
        _mark_checked(folder, state)
        _refresh_heartbeats(folder / db_name, state)
        return
    try:
        files = set(api.list_repo_files(space_id, repo_type="space", revision=sha))
    except Exception as e:
        raise SpaceUnavailable(f"Could not list Space '{space_id}': {_reason(e)}") from None
    if fmt.PROJECT_FILE not in files:
        raise SpaceNotFound(space_id)
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    try:
        def get(path: str) -> bytes:
            try:
                local = api.hf_hub_download(space_id, path, repo_type="space", revision=sha, local_dir=str(incoming))
            except Exception as e:
                raise SpaceUnavailable(f"Could not download '{path}' from Space '{space_id}': {_reason(e)}") from None
            return Path(local).read_bytes()

        try:
            _, project = fmt.unwrap(get(fmt.PROJECT_FILE))
            name = project["project"]
            runs = [r for r in project.get("runs", []) if isinstance(r, dict) and isinstance(r.get("id"), str)]
        except (ValueError, KeyError, TypeError):
            raise SpaceNotFound(space_id) from None
        db_name = f"{canon(name)}.db"
        if state.get("db") not in (None, db_name):
            state = {}
        state.setdefault("runs", {})
        from .schema import connect_writer, ensure_schema

        conn = connect_writer(folder / db_name)
        try:
            ensure_schema(conn)
            for summary in runs:
                _ingest_run(conn, summary, state["runs"].setdefault(summary["id"], {}), files, get)
        finally:
            conn.close()
        state.update({"sha": sha, "db": db_name, "space_id": space_id, "project": name})
        _mark_checked(folder, state)
        _refresh_heartbeats(folder / db_name, state)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def _ingest_run(conn, summary: dict, seen: dict, files: set[str], get) -> None:
    rid = summary["id"]
    rdir = fmt.run_dir(rid)
    if seen.get("rev") == summary.get("rev") and seen.get("rev") is not None:
        manifest = None
    else:
        path = fmt.run_file(rid)
        if path not in files:
            return
        _, manifest = fmt.unwrap(get(path))
    seen["heartbeat_at"] = summary.get("heartbeat_at")
    seen["status"] = summary.get("status")
    if manifest is None:
        return
    rows = seen.setdefault("rows", {})
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
    name = manifest.get("name") or summary.get("name") or rid
    _write_run(conn, rid, name, manifest, new)
    seen["rev"] = summary.get("rev")


def _write_run(conn, rid: str, name: str, manifest: dict, new: dict[str, list]) -> None:
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
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _refresh_heartbeats(db: Path, state: dict) -> None:
    """Give running runs whose remote heartbeat is fresh a heartbeat of now (see module doc)."""
    import time

    from .schema import connect_writer

    fresh, stale = [], []
    for rid, seen in (state.get("runs") or {}).items():
        if seen.get("status") != "running":
            continue
        beat = seen.get("heartbeat_at")
        age = time.time() - ts_key(beat) if beat else float("inf")
        (fresh if age <= REMOTE_FRESH else stale).append((rid, beat))
    if not fresh and not stale:
        return
    conn = connect_writer(db)
    try:
        now = now_ts()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("UPDATE runs SET heartbeat_at=? WHERE id=?", [(now, rid) for rid, _ in fresh])
        conn.executemany("UPDATE runs SET heartbeat_at=? WHERE id=?", [(beat, rid) for rid, beat in stale])
        conn.execute("COMMIT")
    finally:
        conn.close()
