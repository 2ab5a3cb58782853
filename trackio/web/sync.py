"""``trackio sync`` / ``trackio.sync()``: push a project to a static Hugging Face Space.

One sync: create the Space if missing (``sdk: static``), list what it holds, build the export plus
the raw row chunks (:mod:`trackio.web.raw`) against that listing so only new or changed files are
sent, and commit them with ``create_commit`` in batches of at most :data:`BATCH_FILES` files (data
chunks first, then run manifests, then the index, so the live page never points at a missing file).
Every commit names its parent commit: if another machine committed meanwhile, the Hub answers 412 and
the sync starts over from a fresh listing, merging the other machine's runs into ``data/project.js``.
On success the project file gets ``space_id`` and the ``last_sync`` marker (contract §2.3).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path

from ..console import BOLD_ORANGE, paint, say
from ..store import spacefmt as fmt
from ..store.paths import canon, data_dir, project_path
from ..store.reader import ProjectNotFound, list_projects, open_project
from ..store.syncstate import fingerprint
from ..store.timefmt import now_ts
from .build import Sink, build_project, build_site
from .hub import SyncError, client, describe, space_url, status_of, with_retries

SYNC_TIMEOUT = 600.0  # seconds an explicit sync may take, retries included
BATCH_FILES = 50  # files per commit (the Hub recommends fewer than 100)
BATCH_BYTES = 24_000_000  # bytes per commit, before base64
CONFLICT_TRIES = 4  # fresh starts after another machine committed first (HTTP 412)


def git_blob_sha1(data: bytes) -> str:
    """The git blob id the Hub reports as a file's ``oid``: SHA-1 of ``b"blob <size>\\0" + data``."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class PlanSink(Sink):
    """A sink that compares with the Space's files (``{path: oid}``) and records what to upload."""

    def __init__(self, tree: dict[str, str], fetch):
        self.tree = tree
        self.fetch = fetch
        self.adds: dict[str, bytes] = {}
        self.deletes: list[str] = []

    def names(self, folder: str) -> set[str]:
        prefix = folder.rstrip("/") + "/"
        out = {p[len(prefix):] for p in self.tree if p.startswith(prefix) and "/" not in p[len(prefix):]}
        out |= {p[len(prefix):] for p in self.adds if p.startswith(prefix) and "/" not in p[len(prefix):]}
        return out - {p[len(prefix):] for p in self.deletes if p.startswith(prefix)}

    def read(self, path: str) -> bytes | None:
        return self.adds[path] if path in self.adds else (self.fetch(path) if path in self.tree else None)

    def put(self, path: str, data: bytes) -> None:
        if self.tree.get(path) == git_blob_sha1(data):
            self.adds.pop(path, None)
            return
        self.adds[path] = data
        if path in self.deletes:
            self.deletes.remove(path)

    def delete(self, path: str) -> None:
        self.adds.pop(path, None)
        if path in self.tree and path not in self.deletes:
            self.deletes.append(path)


def readme(project: str) -> bytes:
    """The Space's README: front matter for a static Space (hub-docs spaces-config-reference)."""
    name = project.replace("`", "'")
    return (f"---\nemoji: 📈\ncolorFrom: blue\ncolorTo: indigo\nsdk: static\napp_file: index.html\n"
            f"pinned: false\ntags:\n- trackio\n---\n\n# trackio: `{name}`\n\nLive training dashboard of the "
            f"trackio project `{name}`, exported by `trackio sync`. The data is under `data/`; read it from "
            f"a terminal with `trackio list runs --project \"{name}\" --space <this Space's id>`.\n").encode("utf-8")


def resolve_space_id(project: str, space_id: str | None, directory: Path | None, api=None,
                     deadline: float | None = None) -> str:
    """:func:`resolve_target` without the ``generated`` flag."""
    return resolve_target(project, space_id, directory, api, deadline)[0]


def resolve_target(project: str, space_id: str | None, directory: Path | None, api=None,
                   deadline: float | None = None) -> tuple[str, bool]:
    """The Space to sync to (contract §1.11): the argument (``USER/NAME``, ``NAME``, or a Space URL),
    else the project's stored ``space_id``, else ``TRACKIO_SPACE_ID``, else a generated
    ``<canon(P)>-<6 hex>`` made a valid Hub name (:func:`trackio.store.spaceid.generated_name`); a bare
    name gets the token owner's namespace (``whoami``). Returns ``(USER/NAME, generated)``; pass
    ``generated`` on to :func:`sync_once`, which stores the id in the project once the Hub has
    accepted it, so a retry after a failure goes to the same Space (and a refused id is never kept).

    Raises:
        ValueError: not a valid Space id. ProjectNotFound: no such project. SyncError: no token, or
            the Hub could not be asked.
    """
    from ..store.spaceid import generated_name, parse_space_id

    if not space_id:
        conn = open_project(project, directory)
        try:
            row = None
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name='project_metadata'").fetchone():
                row = conn.execute("SELECT value FROM project_metadata WHERE key='space_id'").fetchone()
        finally:
            conn.close()
        space_id = (row[0] if row else None) or os.environ.get("TRACKIO_SPACE_ID")
    generated = not space_id
    space_id = parse_space_id(generated_name(project) if generated else space_id, bare=True)
    if "/" not in space_id:
        api = api or client()
        failed: dict = {}

        def who():
            try:
                return api.whoami()
            except Exception as e:
                failed["exc"] = e
                raise
        try:
            who = with_retries(who, deadline or time.monotonic() + 60)
        except SyncError as e:
            cause = failed.get("exc")
            if status_of(cause) in (401, 403) or "token" in type(cause).__name__.lower():
                raise SyncError(f"Cannot tell your Hugging Face user name ({e}); set HF_TOKEN to a token with "
                                f"write access, or pass the Space id as USER/NAME.") from None
            raise SyncError(f"Cannot tell your Hugging Face user name: the Hub could not be reached ({e}). "
                            f"Try again later.") from None
        space_id = f"{who['name']}/{space_id}"
    return space_id, generated


def _tree(api, space_id: str, sha: str, deadline: float) -> dict[str, str]:
    def listing():
        return {f.path: f.blob_id for f in api.list_repo_tree(space_id, repo_type="space", recursive=True,
                                                                revision=sha)
                if hasattr(f, "blob_id")}
    return with_retries(listing, deadline)


def _download(api, space_id: str, sha: str, path: str, deadline: float) -> bytes:
    import tempfile

    def get():
        with tempfile.TemporaryDirectory(prefix="trackio-sync-") as tmp:
            local = api.hf_hub_download(space_id, path, repo_type="space", revision=sha, local_dir=tmp)
            return Path(local).read_bytes()
    return with_retries(get, deadline)


def _batches(adds: dict[str, bytes], deletes: list[str]):
    """Commit batches, in upload order: chunks, then run manifests, then index, site and deletions."""
    def rank(path):
        if path.endswith("/run.js"):
            return 1
        if path.startswith(fmt.DATA + "/runs/"):
            return 0
        return 2
    order = sorted(adds, key=rank)
    batch, size = [], 0
    for path in order:
        if batch and (len(batch) >= BATCH_FILES or size + len(adds[path]) > BATCH_BYTES or
                      rank(path) != rank(batch[-1])):
            yield batch, []
            batch, size = [], 0
        batch.append(path)
        size += len(adds[path])
    yield batch, deletes


def _progress(total: int, quiet: bool):
    if quiet or total <= 0:
        return None
    try:
        if not sys.stderr.isatty():
            return None
        from tqdm.auto import tqdm
    except (ImportError, AttributeError, ValueError):
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc="Uploading", leave=False)


def sync_once(project: str, space_id: str, *, private: bool | None, force: bool, directory: Path | None,
              token: str | None, deadline: float, quiet: bool = True, store_id: bool = False) -> dict:
    """One complete sync of ``project`` to ``space_id`` (already a full ``USER/NAME``). ``store_id``:
    record ``space_id`` in the project as soon as the Space exists (a generated id).

    Returns ``{"commits": n, "files": n, "bytes": n, "fingerprint": fp}``.

    Raises:
        ProjectNotFound / ProjectUnreadable: the project file. SyncError: the Hub refused, was
            unreachable past ``deadline``, or the Space holds another project or another SDK.
    """
    api = client(token)
    conn = open_project(project, directory)
    try:
        fp = fingerprint(conn)
        with_retries(lambda: api.create_repo(space_id, repo_type="space", space_sdk="static", private=private,
                                             exist_ok=True), deadline)
        if store_id:  # a generated id the Hub accepted: keep it for the next try
            store_marker(project, directory, space_id, None)
        for _ in range(CONFLICT_TRIES):
            info = with_retries(lambda: api.space_info(space_id), deadline)
            if info.sdk not in (None, "static"):
                raise SyncError(f"Space '{space_id}' uses the '{info.sdk}' SDK; trackio syncs to static Spaces "
                                f"only. Choose another Space id.")
            sha = info.sha
            tree = _tree(api, space_id, sha, deadline)
            sink = PlanSink(tree, lambda p: _download(api, space_id, sha, p, deadline))
            other_runs, name = [], project
            if fmt.PROJECT_FILE in tree:
                try:
                    _, remote = fmt.unwrap(sink.read(fmt.PROJECT_FILE))
                except ValueError:
                    remote = {}
                shown = remote.get("project")
                if isinstance(shown, str) and canon(shown) != canon(project):
                    raise SyncError(f"Space '{space_id}' holds the trackio project '{shown}', "
                                    f"not '{project}'. Choose another Space id.")
                if isinstance(shown, str):
                    name = shown  # keep the name the project was first synced under
                other_runs = remote.get("runs") or []
            from .raw import build_raw

            raw = (lambda c, r, s, d: build_raw(c, r, s, d, force=True)) if force else build_raw
            build_project(conn, name, sink, force=force, raw=raw, other_runs=other_runs)
            build_site(sink)
            sink.put("README.md", readme(name))
            try:
                done = _commit(api, space_id, sha, sink, deadline, quiet)
            except _Conflict:
                continue
            done["fingerprint"] = fp
            return done
        raise SyncError(f"Space '{space_id}' kept changing while syncing; try again.")
    finally:
        conn.close()


class _Conflict(SyncError):
    """Another machine committed between our listing and our commit (HTTP 412/409)."""

    def __init__(self):
        super().__init__("conflict")


def _commit(api, space_id: str, sha: str, sink: PlanSink, deadline: float, quiet: bool) -> dict:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    total = sum(len(v) for v in sink.adds.values())
    bar = _progress(total, quiet)
    commits = 0
    parent = sha
    try:
        if not sink.adds and not sink.deletes:
            return {"commits": 0, "files": 0, "bytes": 0}
        for paths, deletes in _batches(sink.adds, sink.deletes):
            if not paths and not deletes:
                continue
            def send(paths=paths, deletes=deletes, parent=parent):
                ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=sink.adds[p]) for p in paths]
                ops += [CommitOperationDelete(path_in_repo=p) for p in deletes]
                try:
                    return api.create_commit(space_id, ops, commit_message=f"trackio sync ({len(ops)} files)",
                                             repo_type="space", parent_commit=parent)
                except Exception as e:
                    if status_of(e) in (409, 412):
                        raise _Conflict() from None
                    raise
            info = with_retries(send, deadline)
            parent = info.oid
            commits += 1
            if bar is not None:
                bar.update(sum(len(sink.adds[p]) for p in paths))
    finally:
        if bar is not None:
            bar.close()
    return {"commits": commits, "files": len(sink.adds) + len(sink.deletes), "bytes": total}


def store_marker(project: str, directory: Path | None, space_id: str, fp: str | None) -> None:
    """Record ``space_id`` and (unless ``fp`` is None) ``last_sync = {"at", "space_id", "fingerprint"}``
    in the project file."""
    from ..store.schema import _retry, connect_writer

    conn = connect_writer(project_path(project, directory))
    try:
        def work():
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS project_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                values = [("space_id", space_id)]
                if fp is not None:
                    values.append(("last_sync", json.dumps({"at": now_ts(), "space_id": space_id, "fingerprint": fp})))
                conn.executemany("INSERT INTO project_metadata (key, value) VALUES (?, ?) "
                                 "ON CONFLICT(key) DO UPDATE SET value=excluded.value", values)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        _retry(work)
    finally:
        conn.close()


def run_sync(project: str, space_id: str, *, private=None, force=False, directory=None, token=None,
             timeout: float | None = None, quiet: bool = True, cancel=None, store_id: bool = False) -> dict:
    """:func:`sync_once` plus the marker, in a worker thread bounded by ``timeout`` seconds (the Hub
    client has no request timeout, so a hung connection must not hang the caller).

    Raises:
        SyncError: failure or timeout. ProjectNotFound / ProjectUnreadable: the project file.
    """
    timeout = SYNC_TIMEOUT if timeout is None else timeout
    result: dict = {}

    def work():
        from .hub import CANCEL

        CANCEL.set(cancel)  # a set ``cancel`` event ends the retry waits of this sync
        try:
            done = sync_once(project, space_id, private=private, force=force, directory=directory, token=token,
                             deadline=time.monotonic() + timeout, quiet=quiet, store_id=store_id)
            store_marker(project, directory, space_id, done["fingerprint"])
            result["ok"] = done
        except BaseException as e:
            result["error"] = e

    t = threading.Thread(target=work, name="trackio-sync", daemon=True)
    t.start()
    t.join(timeout + 1)
    if t.is_alive():
        raise SyncError(f"the sync did not finish within {timeout:g} s (the Hub is slow or not answering)")
    if "error" in result:
        e = result["error"]
        if isinstance(e, (SyncError, ProjectNotFound)) or type(e).__name__ == "ProjectUnreadable":
            raise e
        raise SyncError(describe(e)) from None
    return result["ok"]


def sync_project(project: str, space_id: str | None = None, private: bool | None = None, force: bool = False,
                 run_in_background: bool = False, dataset_id: str | None = None, bucket_id: str | None = None,
                 *, directory: Path | None = None, token: str | None = None) -> str:
    """Publish ``project`` to a static Hugging Face Space and return the Space id (contract §1.11).

    Prints ``* Syncing project '<P>' to: <URL> (please wait...)`` and, on success,
    ``* Static Space deployed: <URL>``. ``private`` applies when the Space is created. ``force``
    rebuilds every file from the project, raw row files included, and uploads whatever differs from
    the Space's content (compared by git blob id, i.e. by content; a file identical to the Space's is
    not sent again, as the Hub would store nothing new). ``run_in_background`` runs the
    upload in a daemon thread and returns at once (a failure is then a warning).

    Raises:
        ProjectNotFound: no such project. SyncError: no token, Hub refused/unreachable, wrong Space.
    """
    for kw, val in (("dataset_id", dataset_id), ("bucket_id", bucket_id)):
        if val is not None:
            warnings.warn(f"{kw} is not supported by this trackio (local storage only); ignoring it.",
                          UserWarning, stacklevel=3)
    if not project_path(project, directory).is_file():
        raise ProjectNotFound(f"Project '{project}' not found.")
    space_id, generated = resolve_target(project, space_id, directory, client(token) if token else None)
    url = space_url(space_id)
    say(f"* Syncing project '{project}' to: {paint(url, BOLD_ORANGE)} (please wait...)")

    def go():
        run_sync(project, space_id, private=private, force=force, directory=directory, token=token, quiet=False,
                 store_id=generated)
        say(f"* Static Space deployed: {paint(url, BOLD_ORANGE)}")

    if run_in_background:
        def background():
            try:
                go()
            except Exception as e:
                warnings.warn(f"trackio could not sync project '{project}' to Space '{space_id}': {e}", UserWarning)
        threading.Thread(target=background, name="trackio-sync-bg", daemon=True).start()
        return space_id
    go()
    return space_id


def sync_all(directory: Path | None = None, token: str | None = None, force: bool = False) -> list[tuple[str, str]]:
    """Sync every project that has a Space and unsynced changes (``trackio sync --all``).

    Prints the ``*`` lines of each sync, or ``No projects with unsynced data found.``. Returns
    ``[(project, space_id), ...]`` synced.

    Raises:
        SyncError: one or more projects failed (all are tried; the message names each failure).
    """
    from ..store.syncstate import project_sync_state

    d = directory or data_dir()
    todo = []
    for name in list_projects(d):
        try:
            space_id, state = project_sync_state(d / f"{name}.db")
        except Exception:
            continue
        if space_id and state == "unsynced":
            todo.append((name, space_id))
    if not todo:
        say("No projects with unsynced data found.")
        return []
    done, failed = [], []
    for name, space_id in todo:
        try:
            done.append((name, sync_project(name, space_id, force=force, directory=directory, token=token)))
        except (SyncError, ProjectNotFound) as e:
            failed.append(f"{name} ({e})")
    if failed:
        raise SyncError(f"Could not sync {len(failed)} project(s): " + "; ".join(failed))
    return done
