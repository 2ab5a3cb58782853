"""Build a project's runs in worker processes: a cold export of a big project decodes every row,
and one process per core divides that time.

Workers are forked when that is safe (Linux, and no other thread in this process that could hold a
lock), else started with ``spawn``, which re-imports the calling program's main module: only pass
``workers`` explicitly from an import-safe main module (the ``trackio`` command, a script guarded by
``if __name__ == "__main__"``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..store import spacefmt as fmt
from ..store.reader import connect_reader
from ..store.runs import RunRow
from .build import Sink, _no_gc, build_run


class MemorySink(Sink):
    """A sink that records writes and deletions in order, for the parent to apply."""

    def __init__(self, existing: dict[str, set[str]]):
        self.existing = existing
        self.ops: list[tuple[str, bytes | None]] = []

    def names(self, folder: str) -> set[str]:
        return set(self.existing.get(folder, ()))

    def read(self, path: str) -> bytes | None:
        return None

    def put(self, path: str, data: bytes) -> None:
        self.ops.append((path, data))

    def delete(self, path: str) -> None:
        self.ops.append((path, None))


def _work(db_path: str, run: RunRow, config: dict, existing: set[str], force: bool):
    conn = connect_reader(Path(db_path))
    try:
        sink = MemorySink({fmt.run_dir(run.id): existing})
        with _no_gc():
            summary = build_run(conn, run, config, sink, force=force)
        return sink.ops, summary
    finally:
        conn.close()


def fork_is_safe() -> bool:
    """True on Linux when this process runs no other thread (a forked child then inherits no lock
    held mid-operation)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def auto_workers() -> int:
    """Worker processes to use by default: up to 4 (one per core) when forking is safe, else 1."""
    return min(4, os.cpu_count() or 1) if fork_is_safe() else 1


def build_runs_parallel(db_path: Path, runs: list[RunRow], configs: dict, sink: Sink, force: bool,
                        workers: int) -> list[dict]:
    """Build ``runs`` in ``workers`` processes; apply each run's files to ``sink`` in the order the
    worker wrote them (chunks before ``run.js``); return the run summaries in ``runs`` order."""
    ctx = multiprocessing.get_context("fork" if fork_is_safe() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_work, str(db_path), r, configs.get(r.id, {}), sink.names(fmt.run_dir(r.id)), force)
                   for r in runs]
        summaries = []
        for fut in futures:
            ops, summary = fut.result()
            for path, blob in ops:
                if blob is None:
                    sink.delete(path)
                else:
                    sink.put(path, blob)
            summaries.append(summary)
    return summaries
