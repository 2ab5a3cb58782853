"""The data worker: reads the project in a thread and posts results as messages.

Start-up: one poll for the run listing, configs, alerts and system metrics, then a quick strided
preview of every run (so all charts paint at once), then each run's exact history (runs with the
most rows first) on a second thread and connection while the first thread polls live. Live: every ``interval`` seconds, only rows past the
per-table cursor are read (:func:`trackio.store.series.poll`). The SQLite connection is opened inside
the worker thread and used with autocommit, so no read transaction spans two polls.

A Space read with ``--space`` is a cached copy (:mod:`trackio.store.remote`); a third thread brings
it up to date from the Space every :data:`REFRESH_EVERY` seconds (rows land in the copy as new ids,
so the next poll shows them), keeping the copy as it is while the Hub cannot be reached.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from textual.message import Message

from ..store.reader import ProjectNotFound, ProjectUnreadable, open_project
from ..store.remote import refresh_space, space_of
from ..store.series import Cursor, max_id, poll, read_run, run_row_counts, sample_keys
from .messages import LoadFailed, Polled, RunLoaded

PREVIEW_ROWS = 1024  # rows per run in the first paint's preview (about 5 per dot column of a wide chart)
REFRESH_EVERY = 30.0  # seconds between two reads of a Space (its background syncs land at most once a minute)


def next_prime(n: int) -> int:
    """Smallest prime >= n (n >= 2); strides on row ids are primes so interleaved runs sample evenly."""
    n = max(2, n)
    while any(n % p == 0 for p in range(2, int(n ** 0.5) + 1)):
        n += 1
    return n


class Loader:
    """Reads ``project`` from ``directory`` and calls ``post`` with messages until :meth:`stop`."""

    def __init__(self, project: str, directory: Path | None, interval: float, post: Callable[[Message], object]):
        self.project = project
        self.directory = directory
        self.interval = max(0.25, float(interval))
        self.post = post
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.painted = threading.Event()  # set by the UI once the previews are on screen
        self.space = space_of(directory) if directory is not None else None  # --space: the Space read

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def poke(self) -> None:
        """Poll now instead of at the next interval."""
        self._wake.set()

    def run(self) -> None:
        if self.space is not None:
            threading.Thread(target=self._refresh_space, name="trackio-tui-space", daemon=True).start()
        try:
            conn = open_project(self.project, self.directory)
        except ProjectNotFound:
            self.post(LoadFailed(f"Project '{self.project}' not found."))
            return
        except ProjectUnreadable as e:
            self.post(LoadFailed(f"Project '{self.project}' cannot be read: {e}"))
            return
        try:
            self._loop(conn)
        except sqlite3.Error as e:
            self.post(LoadFailed(f"Reading project '{self.project}' failed: {e}"))
        finally:
            conn.close()

    def _loop(self, conn: sqlite3.Connection) -> None:
        hi = max_id(conn, "metrics")
        cursor = Cursor(metrics=hi)
        self.post(Polled(poll(conn, cursor), first=True))
        counts = run_row_counts(conn) if hi else {}
        todo = sorted(counts, key=lambda r: -counts[r])
        pending = [r for r in todo if counts[r] > 4 * PREVIEW_ROWS]
        # Preview: a strided sample of each big run (keys from its first and last rows), posted in
        # batches so the first paint shows every run at once.
        batch: list = []
        last_post = time.monotonic()
        for rid in todo:
            if self._stop.is_set():
                return
            keys, decode = sample_keys(conn, rid)
            stride = next_prime(counts[rid] // PREVIEW_ROWS) if rid in pending else 1
            batch.append(read_run(conn, rid, hi, keys if stride > 1 else None, stride, decode))
            if time.monotonic() - last_post > 0.5:
                self.post(RunLoaded(batch, len(pending)))
                batch, last_post = [], time.monotonic()
        if batch:
            self.post(RunLoaded(batch, len(pending)))
        history = threading.Thread(target=self._history, args=(pending, hi), name="trackio-tui-history",
                                   daemon=True)
        history.start()
        next_poll = time.monotonic() + self.interval
        while not self._stop.is_set():
            self._wake.wait(max(0.0, next_poll - time.monotonic()))
            if self._stop.is_set():
                break
            self._wake.clear()
            self.post(Polled(poll(conn, cursor)))
            next_poll = time.monotonic() + self.interval
        history.join(timeout=5)

    def _refresh_space(self) -> None:
        """Re-read the Space every :data:`REFRESH_EVERY` seconds, then poll at once."""
        while not self._stop.wait(REFRESH_EVERY):
            try:
                refresh_space(self.directory, max_age=REFRESH_EVERY * 0.9)
            except Exception:  # the Hub is unreachable or refused: keep the cached copy, try again later
                continue
            self.poke()

    def _history(self, pending: list[str], hi: int) -> None:
        """Exact histories of the previewed runs, on a second connection so live polls never wait."""
        self.painted.wait(timeout=3.0)  # let the first paint have the CPU (and the GIL) first
        try:
            conn = open_project(self.project, self.directory)
        except (ProjectNotFound, ProjectUnreadable, sqlite3.Error):
            return
        try:
            while pending and not self._stop.is_set():
                rid = pending.pop(0)
                self.post(RunLoaded([read_run(conn, rid, hi, None)], len(pending)))
        except sqlite3.Error as e:
            self.post(LoadFailed(f"Reading project '{self.project}' failed: {e}"))
        finally:
            conn.close()
