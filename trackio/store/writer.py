"""The per-run batch writer: one daemon thread that owns the run's SQLite connection.

``log()`` only appends a tuple to :attr:`Writer.queue` (a ``collections.deque``; ``append`` is atomic).
The thread wakes every :data:`FLUSH_INTERVAL` seconds (or at once when asked), serialises what is
queued to compact JSON and commits it, plus a dirty config and a heartbeat due every
:data:`HEARTBEAT_INTERVAL` seconds, in one ``BEGIN IMMEDIATE`` transaction (contract §2.7).
``SQLITE_BUSY`` is retried with backoff for as long as it takes; queued rows are never dropped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import warnings
from collections import deque

from .schema import is_busy
from .timefmt import format_ts, now_ts

FLUSH_INTERVAL = 0.1  # seconds between wake-ups; the contract's bound is 0.25 s
HEARTBEAT_INTERVAL = 5.0  # seconds

# Queue item kinds: (KIND, call time in s since epoch, ...)
METRIC, SYSTEM, ALERT = 0, 1, 2

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


def encode_json(obj) -> str:
    """Compact UTF-8 JSON text as stored in the ``metrics``/``config`` columns (no NaN tokens)."""
    return _encode(obj)


class Writer:
    """Batch writer for one run.

    Args:
        conn: a writer connection (see :func:`trackio.store.schema.connect_writer`); owned from now on.
        run_id: 32-hex run id; run_name: the run's name (written into every row).
        config: the run's config, an object with a ``_version`` counter and ``snapshot()`` returning
            ``(version, JSON-safe dict)``; polled each wake, a changed version is upserted into ``configs``.
        owns_status: when False (a forked child), the writer never touches ``runs.status``.
    """

    def __init__(self, conn: sqlite3.Connection, run_id: str, run_name: str, config,
                 created_at: str, owns_status: bool = True):
        self.queue: deque = deque()
        self._conn = conn
        self._run_id = run_id
        self._run_name = run_name
        self._config = config
        self._created_at = created_at
        self._owns_status = owns_status
        self._config_version = None
        self._next_heartbeat = time.monotonic() + HEARTBEAT_INTERVAL
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._final_status: str | None = None
        self._stop = False
        self._pending: tuple[list, list, list] | None = None
        self._warned = False
        self._generation = 0  # bumped after each successful commit
        self._thread = threading.Thread(target=self._loop, name=f"trackio-writer-{run_id[:8]}", daemon=True)
        self._thread.start()

    def mark_config_saved(self, version: int) -> None:
        """Record that the config at ``version`` is already stored (written by ``init``)."""
        self._config_version = version

    # -- called from other threads -------------------------------------------------------------
    def flush(self, timeout: float) -> bool:
        """Commit everything queued before this call; True if that landed within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._idle:
            # A commit cycle already running may have drained before our rows arrived: wait for one
            # that starts after this point, i.e. two completed cycles.
            target = self._generation + 2
            while self._generation < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._wake.set()
                self._idle.wait(min(left, 0.05))
            return True

    def close(self, status: str | None, timeout: float) -> bool:
        """Commit everything, record ``status`` (``finished``) if given, stop the thread.

        Returns True if it completed within ``timeout`` seconds; otherwise the thread keeps trying in
        the background until the process exits.
        """
        self._final_status = status
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the thread ------------------------------------------------------------------------------
    def _is_drained(self) -> bool:
        return not self.queue and self._pending is None

    def _loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            stopping = self._stop
            try:
                self._commit(final=stopping)
            except Exception as e:  # never let the thread die: keep the rows and retry
                if not self._warned:
                    self._warned = True
                    warnings.warn(f"trackio could not write to its database yet ({e}); retrying.", stacklevel=1)
                time.sleep(0.2)
                continue
            with self._idle:
                self._generation += 1
                self._idle.notify_all()
            if stopping and self._is_drained():
                try:
                    self._conn.close()
                except Exception:
                    pass
                return

    def _drain(self):
        q = self.queue
        metrics, system, alerts = [], [], []
        rid, rname = self._run_id, self._run_name
        popleft = q.popleft
        for _ in range(len(q)):
            item = popleft()
            kind = item[0]
            if kind == METRIC:
                metrics.append((rid, format_ts(item[1]), rname, item[2], _dumps(item[3])))
            elif kind == SYSTEM:
                system.append((rid, format_ts(item[1]), rname, _dumps(item[2])))
            else:
                _, t, title, text, level, step, alert_id = item
                alerts.append((rid, format_ts(t), rname, title, text, level, step, alert_id))
        return metrics, system, alerts

    def _commit(self, final: bool) -> None:
        if self._pending is None:
            self._pending = self._drain()
        elif self.queue:
            more = self._drain()
            self._pending = tuple(a + b for a, b in zip(self._pending, more))
        metrics, system, alerts = self._pending
        config_dirty = self._config._version != self._config_version
        now = time.monotonic()
        beat = now >= self._next_heartbeat
        if not (metrics or system or alerts or config_dirty or beat or final):
            self._pending = None
            return
        config_json = None
        if config_dirty:
            version, snapshot = self._config.snapshot()
            config_json = encode_json(snapshot)
        conn = self._conn
        delay = 0.005
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    self._write(conn, metrics, system, alerts, config_json, beat or final, final)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                break
            except sqlite3.OperationalError as e:
                if not is_busy(e):
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        self._pending = None
        if config_dirty:
            self._config_version = version
        if beat:
            self._next_heartbeat = now + HEARTBEAT_INTERVAL

    def _write(self, conn, metrics, system, alerts, config_json, beat, final) -> None:
        if metrics:
            _insert(conn, "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                    metrics, 4)
        if system:
            _insert(conn, "INSERT INTO system_metrics (run_id, timestamp, run_name, metrics) VALUES (?,?,?,?)",
                    system, 3)
        if alerts:
            conn.executemany(
                "INSERT INTO alerts (run_id, timestamp, run_name, title, text, level, step, alert_id) "
                "VALUES (?,?,?,?,?,?,?,?)", alerts)
        if config_json is not None:
            upsert_config(conn, self._run_id, self._run_name, config_json, self._created_at)
        if not self._owns_status:
            return
        ts = now_ts()
        if final and self._final_status:
            conn.execute("UPDATE runs SET status=?, finished_at=?, heartbeat_at=? WHERE id=?",
                         (self._final_status, ts, ts, self._run_id))
        elif beat:
            conn.execute("UPDATE runs SET heartbeat_at=?, pid=?, status='running' WHERE id=? AND status != 'finished'",
                         (ts, os.getpid(), self._run_id))


def _dumps(obj) -> str:
    try:
        return _encode(obj)
    except (TypeError, ValueError):  # values were converted at log time; this is a last resort
        return json.dumps(obj, default=str, ensure_ascii=False, separators=(",", ":"))


def _insert(conn, sql, rows, json_col) -> None:
    try:
        conn.executemany(sql, rows)
    except UnicodeEncodeError:
        # A string with a lone surrogate cannot be stored as UTF-8: store that row's JSON with
        # \\u escapes instead (still valid JSON, nothing lost).
        for row in rows:
            try:
                conn.execute(sql, row)
            except UnicodeEncodeError:
                fixed = list(row)
                fixed[json_col] = _encode_ascii(json.loads(row[json_col]))
                fixed = [v.encode("utf-8", "backslashreplace").decode() if isinstance(v, str) and i != json_col
                         else v for i, v in enumerate(fixed)]
                conn.execute(sql, fixed)


def upsert_config(conn, run_id: str, run_name: str, config_json: str, created_at: str) -> None:
    """Insert or update the ``configs`` row of ``run_id`` (``created_at`` kept when it exists)."""
    cur = conn.execute("UPDATE configs SET config=?, run_name=? WHERE run_id=?", (config_json, run_name, run_id))
    if cur.rowcount == 0:
        conn.execute("INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?,?,?,?)",
                     (run_id, run_name, config_json, created_at))
