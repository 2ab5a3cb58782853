"""Build the export's files (site, project index, per-run manifests, view chunks) into a sink.

A sink is where files go: a directory (``trackio export``, ``trackio show --web``) or an upload plan
(``trackio sync``). It says which files already exist, so a rebuild only computes and writes what
changed: the open chunk of each growing run, newly full chunks, the run manifests and the index.
Layout and names: :mod:`trackio.store.spacefmt`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import sqlite3
from pathlib import Path

from .._version import __version__
from ..store import spacefmt as fmt
from ..store.reader import read_configs
from ..store.runs import RunRow, project_runs, run_id_expr
from ..store.timefmt import ts_key
from . import data
from .view import chunk_parts, downsample

STATIC = Path(__file__).resolve().parent / "static"
MAX_ALERTS = 1000  # newest alerts kept per run in its manifest
BATCH_ROWS = 1 << 18  # rows decoded at once (bounds memory on very long runs)
PARALLEL_ROWS = 300_000  # metric rows to decode before worker processes pay for their start-up


class Sink:
    """Interface of a build target. ``names(folder)``: file names directly inside ``folder``;
    ``put(path, data)``: write a file (bytes); ``delete(path)``: remove a file; ``read(path)``: bytes
    or None."""

    def names(self, folder: str) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def put(self, path: str, data: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def delete(self, path: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, path: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic garbage collector: a run's decoded rows are a million small objects, and each
    full collection would walk them all while nothing built here forms a cycle."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def short_hash(data: bytes) -> str:
    """First 12 hex digits of the SHA-1 of ``data`` (a content revision for cache-busting)."""
    return hashlib.sha1(data).hexdigest()[:12]


def site_files() -> list[tuple[str, Path]]:
    """``(path in the site, packaged file)`` for the page: index.html, app.js, app.css, vendor/*."""
    out = []
    for p in sorted(STATIC.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            out.append((p.relative_to(STATIC).as_posix(), p))
    return out


def build_site(sink: Sink) -> None:
    """Write the page's static files."""
    for rel, path in site_files():
        sink.put(rel, path.read_bytes())


def _rows_to_decode(conn, runs: list[RunRow], sink: Sink, force: bool) -> int:
    total = 0
    for run in runs:
        existing = sink.names(fmt.run_dir(run.id))
        n = data.row_count(conn, "metrics", run.id)
        if n:
            level, _, need = plan_stream("m", n, existing, force)
            total += n - need[0] * (fmt.CHUNK_BUCKETS << level) if need else 0
    return total


def build_project(conn: sqlite3.Connection, project: str, sink: Sink, *, force: bool = False,
                  raw=None, other_runs: list[dict] | None = None, db_path: Path | None = None,
                  workers: int = 1) -> list[dict]:
    """Write every run's files, then ``data/project.js``; returns the run summaries written.

    ``force``: rebuild full chunks even when the sink has them. ``raw``: a callable
    ``raw(conn, run, sink, run_dir) -> dict`` adding the raw row chunks (sync only).
    ``other_runs``: summaries of runs this machine does not have (from the Space), kept in the index.
    ``workers`` > 1 (with ``db_path``): when at least :data:`PARALLEL_ROWS` rows must be decoded,
    build runs in that many worker processes (never do this inside a training process).
    """
    runs = project_runs(conn)
    configs = read_configs(conn)
    pool = None
    if workers > 1 and raw is None and len(runs) > 1 and _rows_to_decode(conn, runs, sink, force) >= PARALLEL_ROWS:
        from .parallel import build_runs_parallel

        pool = build_runs_parallel(db_path, runs, configs, sink, force, min(workers, len(runs)))
    if pool is not None:
        summaries = pool
    else:
        with _no_gc():
            summaries = [build_run(conn, r, configs.get(r.id, {}), sink, force=force, raw=raw) for r in runs]
    mine = {s["id"] for s in summaries}
    kept = [s for s in (other_runs or []) if isinstance(s, dict) and s.get("id") not in mine]
    every = sorted(kept + summaries, key=lambda s: (ts_key(s.get("created_at") or ""), s.get("id") or ""))
    last = max((s.get("last_ts") or "" for s in every), default="", key=lambda t: ts_key(t) if t else float("-inf"))
    index = {"format": fmt.FORMAT, "project": project, "generator": f"trackio {__version__}",
             "updated_at": last or None, "runs": every}
    sink.put(fmt.PROJECT_FILE, fmt.wrap("project", fmt.dumps(index)))
    return summaries


def _groups(need: list[int], most: int) -> list[list[int]]:
    """Split chunk indexes into runs of consecutive indexes, at most ``most`` long (bounded memory)."""
    out: list[list[int]] = []
    for k in need:
        if out and out[-1][-1] == k - 1 and len(out[-1]) < most:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def plan_stream(stream: str, n: int, existing: set[str], force: bool) -> tuple[int, list[str], list[int]]:
    """For a stream of ``n`` rows: ``(level, chunk file names, indexes of the chunks to (re)build)``.

    A full chunk already in ``existing`` is kept (unless ``force``); the open chunk is always rebuilt.
    """
    level = fmt.level_for(n)
    per_chunk = fmt.CHUNK_BUCKETS << level
    nchunks = -(-n // per_chunk)
    names, need = [], []
    for k in range(nchunks):
        full = (k + 1) * per_chunk <= n
        name = fmt.view_name(stream, level, k, not full)
        names.append(name)
        if not full or force or name not in existing:
            need.append(k)
    return level, names, need


def _stream(conn, table: str, stream: str, run: RunRow, t0: float, existing: set[str], sink: Sink,
            force: bool) -> dict | None:
    ids = data.row_ids(conn, table, run.id)
    n = len(ids)
    if n == 0:
        return None
    level, names, need = plan_stream(stream, n, existing, force)
    w = 1 << level
    per_chunk = fmt.CHUNK_BUCKETS * w
    files = {k: [name] + _parts_in(existing, name) for k, name in enumerate(names)}  # kept chunks' parts
    open_blobs: list[bytes] = []
    for group in _groups(need, max(1, BATCH_ROWS // per_chunk)):
        first = group[0] * per_chunk
        part = ids[first:min(n, (group[-1] + 1) * per_chunk)]
        rows = data.run_dicts(conn, table, run.id, part)
        ends, series = downsample(rows, w)
        del rows
        wanted = set(ends)
        for s in series.values():
            if s.at is not None:
                wanted.update(a for a in s.at if a is not None)
        cols = "step, timestamp" if stream == "m" else "NULL, timestamp"
        found = {r[0]: r for r in data.rows_from(conn, table, sorted(part[i] for i in wanted), cols)}

        def row_step(i, part=part, found=found):
            return found[part[i]][1]

        def row_time(i, part=part, found=found):
            t = ts_key(found[part[i]][2])
            return None if t == float("-inf") else t - t0

        steps = [row_step(e) for e in ends] if stream == "m" else None
        times = [row_time(e) for e in ends]
        for k in group:
            lo = (k - group[0]) * fmt.CHUNK_BUCKETS
            hi = min(lo + fmt.CHUNK_BUCKETS, len(ends))
            is_open = names[k].endswith("-open.js")
            bodies = chunk_parts(stream=stream, level=level, index=k, b0=k * fmt.CHUNK_BUCKETS, full=not is_open,
                                 steps=steps, times=times, series=series, lo=lo, hi=hi, row_step=row_step,
                                 row_time=row_time, max_bytes=fmt.CHUNK_BYTES)
            files[k] = [fmt.view_name(stream, level, k, is_open, p) for p in range(len(bodies))]
            for name, body in zip(files[k], bodies):
                blob = fmt.wrap(f"runs/{fmt.run_key(run.id)}/{name[:-3]}", body)
                sink.put(f"{fmt.run_dir(run.id)}/{name}", blob)
                if is_open:
                    open_blobs.append(blob)
    open_rev = short_hash(b"".join(open_blobs)) if open_blobs else None
    chunks = [name for k in range(len(names)) for name in files[k]]
    return {"rows": n, "level": level, "w": w, "chunks": chunks, "open_rev": open_rev, "last_id": ids[-1]}


def _parts_in(existing: set[str], name: str) -> list[str]:
    """The further parts (``…-p1.js`` …) of chunk file ``name`` among ``existing``, in order."""
    stem = name[:-3] + "-p"
    found = [x for x in existing if x.startswith(stem) and fmt.parse_view_name(x)]
    return sorted(found, key=fmt.view_part)


def build_run(conn, run: RunRow, config: dict, sink: Sink, *, force: bool = False, raw=None) -> dict:
    """Write one run's view chunks and ``run.js``; delete its stale chunks; return its index entry."""
    rdir = fmt.run_dir(run.id)
    existing = sink.names(rdir)
    t0 = ts_key(run.created_at) if run.created_at else float("-inf")
    if t0 == float("-inf"):
        t0 = 0.0
    streams = {}
    for stream, table in fmt.STREAMS.items():
        info = _stream(conn, table, stream, run, t0, existing, sink, force)
        if info is not None:
            streams[stream] = info
    current = {name for info in streams.values() for name in info["chunks"]}
    for name in existing:
        if fmt.parse_view_name(name) and name not in current:
            sink.delete(f"{rdir}/{name}")
    alerts = []
    alert_ids = data.row_ids(conn, "alerts", run.id)
    if alert_ids:
        for _, ts, title, text, level, step, alert_id in data.alert_rows(conn, alert_ids[-MAX_ALERTS:]):
            alerts.append({"timestamp": ts, "title": title, "text": text, "level": (level or "warn").lower(),
                           "step": step, "alert_id": alert_id})
    last_step = last_ts = None
    if "m" in streams:
        last_step = conn.execute(f"SELECT MAX(step) FROM metrics WHERE {run_id_expr(conn, 'metrics')} = ?",
                                 (run.id,)).fetchone()[0]
        last_ts = conn.execute("SELECT timestamp FROM metrics WHERE id = ?", (streams["m"]["last_id"],)).fetchone()[0]
    for info in streams.values():
        del info["last_id"]
    manifest = {"format": fmt.FORMAT, "id": run.id, "name": run.name, "group": run.group, "status": run.status,
                "created_at": run.created_at, "finished_at": run.finished_at, "t0": t0,
                "config": config, "streams": streams, "alerts": alerts, "alerts_total": len(alert_ids)}
    if raw is not None:
        manifest["raw"] = raw(conn, run, sink, rdir)
    blob = fmt.wrap(f"runs/{fmt.run_key(run.id)}", fmt.dumps(manifest))
    sink.put(fmt.run_file(run.id), blob)
    return {"id": run.id, "key": fmt.run_key(run.id), "name": run.name, "group": run.group, "status": run.status,
            "created_at": run.created_at, "finished_at": run.finished_at, "heartbeat_at": run.heartbeat_at,
            "rows": streams.get("m", {}).get("rows", 0), "last_step": last_step, "last_ts": last_ts,
            "alerts": len(alert_ids), "rev": short_hash(blob)}
