"""The per-run batch writer: a two-stage pipeline that owns the run's SQLite connection.

``log()`` only appends a tuple to :attr:`Writer.queue` (a ``collections.deque``; ``append`` is atomic).
Stage 1 (*prepare* thread) wakes every :data:`FLUSH_INTERVAL` seconds, or at once when asked or when a
backlog builds, drains the queue and serialises it: metric rows become one JSON array text, system
rows and alerts parameter tuples, plus a dirty config and a heartbeat due every
:data:`HEARTBEAT_INTERVAL` seconds. Stage 2 (*commit* thread) commits prepared batches, all that are
waiting, in one ``BEGIN IMMEDIATE`` transaction (contract §2.7). The split lets SQLite's work (which
releases Python's GIL) overlap the training loop and the next batch's serialisation (which need it).

``SQLITE_BUSY`` is retried with backoff for as long as it takes, in slices of
:data:`BUSY_SLICE` seconds so that a ``fork()`` elsewhere in the process never waits long for the
commit thread to leave SQLite (see :func:`_before_fork`). A batch SQLite refuses for another reason
is committed piece by piece, so one unstorable row never blocks the others.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import warnings
from collections import deque

from . import ALERT, METRIC, SYSTEM  # noqa: F401 - queue item kinds, re-exported
from .schema import connect_writer, is_busy
from .timefmt import format_us, now_ts

FLUSH_INTERVAL = 0.1  # seconds between wake-ups; the contract's bound is 0.25 s
HEARTBEAT_INTERVAL = 5.0  # seconds
BACKLOG = 2000  # queued items at which stage 1 prepares again at once instead of sleeping
MAX_BATCH = 5000  # metric rows per prepared batch, so serialisation and commits interleave
BUSY_SLICE = 0.25  # seconds SQLite itself waits on a lock before we retry (and let a fork through)

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode

# One statement inserts a whole batch: the rows travel as one JSON array of the queue items
# ``[kind, µs since the epoch, step, {metrics}]`` and SQLite splits and stores them in C without
# taking the GIL per row (a plain executemany re-takes it for every row, which a training loop holding
# the GIL makes slow). The timestamp text is built in SQL: ?4 holds "YYYY-MM-DDTHH:MM:SS" of every
# second from ?5 to ?6 (19 characters each); a row outside that range (a clock that stepped) uses
# strftime. Either way it is the text format_us() writes. json_extract returns each object's text
# exactly as encoded (JSON1, in every SQLite Python ships).
_INSERT_BATCH = """
INSERT INTO metrics (run_id, timestamp, run_name, step, metrics)
SELECT ?1,
       CASE WHEN sec BETWEEN ?5 AND ?6 THEN substr(?4, (sec - ?5) * 19 + 1, 19)
            ELSE strftime('%Y-%m-%dT%H:%M:%S', sec, 'unixepoch') END || printf('.%06d+00:00', us % 1000000),
       ?2, step, metrics
FROM (SELECT json_extract(value, '$[1]') AS us, json_extract(value, '$[1]') / 1000000 AS sec,
             json_extract(value, '$[2]') AS step, json_extract(value, '$[3]') AS metrics
      FROM json_each(?3))
"""
ENCODE_SLICE = 1000  # metric rows per call of the JSON encoder (about 1-2 ms of GIL each)
MAX_SPAN = 3600  # seconds covered by a batch's prefix table (19 bytes a second)
_INSERT_SYSTEM = "INSERT INTO system_metrics (run_id, timestamp, run_name, metrics) VALUES (?,?,?,?)"
_INSERT_ALERT = ("INSERT INTO alerts (run_id, timestamp, run_name, title, text, level, step, alert_id) "
                 "VALUES (?,?,?,?,?,?,?,?)")

# Held by commit threads while they are inside SQLite. fork() takes it first (os.register_at_fork),
# so a child never inherits SQLite's internal locks mid-operation, which would deadlock its own
# writer (sqlite.org/howtocorrupt.html §2.6: do not carry an open connection across a fork).
_sqlite_gate = threading.Lock()


def encode_json(obj) -> str:
    """Compact UTF-8 JSON text as stored in the ``metrics``/``config`` columns (no NaN tokens)."""
    return _encode(obj)


class _Batch:
    __slots__ = ("metrics", "system", "alerts", "config_json", "beat", "final", "seq")

    def __init__(self, metrics, system, alerts, config_json, beat, final, seq):
        self.metrics, self.system, self.alerts = metrics, system, alerts
        self.config_json, self.beat, self.final, self.seq = config_json, beat, final, seq


class Writer:
    """Batch writer for one run.

    Args:
        conn: a writer connection (see :func:`trackio.store.schema.connect_writer`); owned from now on.
            ``None`` with ``path``: the commit thread opens it (a forked child's writer).
        run_id: 32-hex run id; run_name: the run's name (written into every row).
        config: the run's config, an object with a ``_version`` counter and ``snapshot()`` returning
            ``(version, JSON-safe dict)``; polled each wake, a changed version is upserted into ``configs``.
        created_at: the run's creation timestamp (for a ``configs`` row it may have to insert).
        owns_status: when False (a forked child), the writer never touches ``runs.status``.
    """

    def __init__(self, conn: sqlite3.Connection | None, run_id: str, run_name: str, config,
                 created_at: str, owns_status: bool = True, path=None):
        self.queue: deque = deque()
        self._conn = conn
        self._path = path
        self._run_id = run_id
        self._run_name = run_name
        self._config = config
        self._created_at = created_at
        self._owns_status = owns_status
        self._config_version = None
        self._next_heartbeat = time.monotonic() + HEARTBEAT_INTERVAL
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._batches: deque = deque()
        self._drains = 0  # completed stage-1 cycles
        self._prepared = 0  # sequence number of the last prepared batch
        self._committed = 0  # sequence number of the last committed batch
        self._final_status: str | None = None
        self._stop = False
        self._warned: set[str] = set()
        name = run_id[:8]
        self._prepare_thread = threading.Thread(target=self._prepare_loop, name=f"trackio-prepare-{name}",
                                                daemon=True)
        self._commit_thread = threading.Thread(target=self._commit_loop, name=f"trackio-commit-{name}",
                                               daemon=True)
        self._prepare_thread.start()
        self._commit_thread.start()

    def wake(self) -> None:
        """Ask stage 1 to drain now (``log()`` calls this when a backlog of :data:`BACKLOG` builds)."""
        self._wake.set()

    def mark_config_saved(self, version: int) -> None:
        """Record that the config at ``version`` is already stored (written by ``init``)."""
        self._config_version = version

    # -- called from other threads -------------------------------------------------------------
    def flush(self, timeout: float) -> bool:
        """Commit everything queued before this call; True if that landed within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            # A stage-1 cycle already running may have drained before our rows arrived: wait for
            # one that starts after this point (two completed cycles), then for its commit.
            target = self._drains + 2
            want = None
            while True:
                if want is None and self._drains >= target:
                    want = self._prepared
                if want is not None and self._committed >= want:
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or not self._commit_thread.is_alive():
                    return False
                if want is None:
                    self._wake.set()
                self._cond.wait(min(left, 0.05))

    def close(self, status: str | None, timeout: float) -> bool:
        """Commit everything and the config, record ``status`` (``finished``) if given, stop both threads.

        Returns True if that completed within ``timeout`` seconds; otherwise the threads keep trying in
        the background until the process exits.
        """
        deadline = time.monotonic() + timeout
        self._final_status = status
        self._stop = True
        self._wake.set()
        self._prepare_thread.join(timeout)
        self._commit_thread.join(max(deadline - time.monotonic(), 0.0))
        return not self._commit_thread.is_alive()

    # -- stage 1: drain and serialise --------------------------------------------------------------
    def _prepare_loop(self) -> None:
        drained = 0
        while True:
            if len(self.queue) < BACKLOG:
                # Rows are pouring in (the last cycle took many): look again soon rather than letting
                # a big batch build up; otherwise every FLUSH_INTERVAL.
                self._wake.wait(FLUSH_INTERVAL if drained < BACKLOG else FLUSH_INTERVAL / 10)
            self._wake.clear()
            stopping = self._stop
            before = len(self.queue)
            try:
                while True:
                    batch = self._prepare(final=stopping)
                    if batch is not None:
                        with self._cond:
                            self._batches.append(batch)
                            self._prepared = batch.seq
                            self._cond.notify_all()
                    if not self.queue or batch is None:
                        break
            except Exception as e:  # keep the thread alive; undrained rows stay queued
                self._warn("prepare", f"trackio could not prepare rows for its database yet ({e}); retrying.")
                time.sleep(0.2)
                continue
            drained = before
            with self._cond:
                self._drains += 1
                self._cond.notify_all()
            if stopping:
                return

    def _config_json(self, final: bool) -> str | None:
        """The config's JSON when it changed (always on the final batch), else None. A config that
        cannot be read right now (changing under another thread) is left for the next wake."""
        if not final and self._config._version == self._config_version:
            return None
        try:
            version, snapshot = self._config.snapshot()
            text = encode_json(snapshot)
        except Exception as e:
            self._warn("config", f"trackio could not save the run's config yet ({e}); retrying.")
            return None
        self._config_version = version
        return text

    def _prepare(self, final: bool) -> _Batch | None:
        # The config first: if reading it fails, nothing has been taken off the queue yet.
        config_json = self._config_json(final and len(self.queue) <= MAX_BATCH)
        q = self.queue
        metrics, system, alerts = [], [], []
        rid, rname = self._run_id, self._run_name
        popleft = q.popleft
        for _ in range(min(len(q), MAX_BATCH)):
            item = popleft()
            kind = item[0]
            if kind == METRIC:
                metrics.append(item)
            elif kind == SYSTEM:
                system.append((rid, format_us(item[1]), rname, _dumps(item[2])))
            else:
                _, t, title, text, level, step, alert_id = item
                alerts.append((rid, format_us(t), rname, title, text, level, step, alert_id))
        final = final and not q
        now = time.monotonic()
        beat = now >= self._next_heartbeat
        if beat:
            self._next_heartbeat = now + HEARTBEAT_INTERVAL
        if not (metrics or system or alerts or config_json or beat or final):
            return None
        text = _MetricRows.encode(metrics) if metrics else None
        return _Batch(text, system, alerts, config_json, beat, final, self._prepared + 1)

    # -- stage 2: commit -----------------------------------------------------------------------------
    def _commit_loop(self) -> None:
        while self._conn is None:  # a forked child's writer opens its connection here, not in log()
            try:
                self._conn = connect_writer(self._path)
            except Exception as e:
                self._warn("open", f"trackio could not open its database {self._path} yet ({e}); retrying.")
                time.sleep(0.5)
        self._conn.execute(f"PRAGMA busy_timeout={int(BUSY_SLICE * 1000)}")
        failures = 0
        while True:
            with self._cond:
                while not self._batches:
                    if self._stop and not self._prepare_thread.is_alive():
                        break
                    self._cond.wait(0.25)
                batches = list(self._batches)
            if batches:
                try:
                    if failures >= 3:  # SQLite keeps refusing this batch: store what can be stored
                        self._commit_piecewise(batches)
                    else:
                        self._commit(batches)
                    failures = 0
                except Exception as e:  # never let the thread die: keep the batches and retry
                    failures += 1
                    self._warn("commit", f"trackio could not write to its database yet ({e}); retrying.")
                    time.sleep(0.2)
                    continue
                with self._cond:
                    for _ in batches:
                        self._batches.popleft()
                    self._committed = batches[-1].seq
                    self._cond.notify_all()
            if any(b.final for b in batches) or (self._stop and not self._prepare_thread.is_alive()
                                                 and not self._batches and not self.queue):
                try:
                    self._conn.close()
                except Exception:
                    pass
                return

    def _transaction(self, work, single: bool = False) -> None:
        """Run ``work(conn)`` in one ``BEGIN IMMEDIATE`` transaction (or, with ``single``, as one
        autocommit statement: SQLite makes it atomic by itself), retrying while the database is locked;
        between tries the fork gate is released."""
        conn = self._conn
        delay = 0.005
        while True:
            with _sqlite_gate:
                try:
                    if single:
                        work(conn)
                        return
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        work(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            try:
                                conn.execute("ROLLBACK")
                            except sqlite3.Error:
                                pass  # SQLite may have rolled back already (e.g. disk full)
                        raise
                    return
                except sqlite3.OperationalError as e:
                    if not is_busy(e):
                        raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _commit(self, batches: list[_Batch]) -> None:
        texts = [b.metrics for b in batches if b.metrics]
        only_metrics = bool(texts) and not any(b.system or b.alerts or b.config_json is not None
                                         or (self._owns_status and (b.beat or b.final)) for b in batches)
        if only_metrics:
            # The common case while training: every waiting batch in one INSERT statement. Each
            # statement costs the thread a trip back to the GIL, which a busy training loop holds
            # for up to the interpreter's switch interval (5 ms), so fewer statements commit faster.
            rows = _MetricRows.merge(texts)
            self._transaction(lambda conn: rows.insert(conn, self._run_id, self._run_name), single=True)
            return

        def work(conn):
            for batch in batches:
                self._write(conn, batch)

        self._transaction(work)

    def _commit_piecewise(self, batches: list[_Batch]) -> None:
        """Commit each part of each batch on its own, and each system row and alert on its own: a row
        SQLite refuses is reported and skipped instead of blocking everything behind it."""
        for b in batches:
            parts = [("metric rows", lambda c, b=b: b.metrics and b.metrics.insert(c, self._run_id, self._run_name))]
            parts += [("a system row", lambda c, r=r: _insert(c, _INSERT_SYSTEM, [r], 3)) for r in b.system]
            parts += [("an alert", lambda c, r=r: _insert(c, _INSERT_ALERT, [r], None)) for r in b.alerts]
            parts.append(("the run's status", lambda c, b=b: self._write(c, _Batch(None, [], [], b.config_json,
                                                                                  b.beat, b.final, b.seq))))
            for what, work in parts:
                try:
                    self._transaction(work)
                except sqlite3.Error as e:
                    self._warn(f"skip-{what}", f"trackio could not store {what} and skipped it ({e}).")

    def _write(self, conn, b: _Batch) -> None:
        if b.metrics:
            b.metrics.insert(conn, self._run_id, self._run_name)
        if b.system:
            _insert(conn, _INSERT_SYSTEM, b.system, 3)
        if b.alerts:
            _insert(conn, _INSERT_ALERT, b.alerts, None)
        if b.config_json is not None:
            upsert_config(conn, self._run_id, self._run_name, b.config_json, self._created_at)
        if not self._owns_status:
            return
        ts = now_ts()
        if b.final and self._final_status:
            conn.execute("UPDATE runs SET status=?, finished_at=?, heartbeat_at=? WHERE id=?",
                         (self._final_status, ts, ts, self._run_id))
        elif b.beat:
            conn.execute("UPDATE runs SET heartbeat_at=?, pid=?, status='running' WHERE id=? AND status != 'finished'",
                         (ts, os.getpid(), self._run_id))

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=1)


def _dumps(obj) -> str:
    try:
        return _encode(obj)
    except (TypeError, ValueError):  # values were converted at log time; this is a last resort
        return json.dumps(obj, default=str, ensure_ascii=False, separators=(",", ":"))


class _MetricRows:
    """A prepared batch of metric rows: the JSON array text of the queue items and the range of
    seconds (``base``..``last``, since the epoch) its timestamp prefix table covers."""

    __slots__ = ("text", "base", "last")

    def __init__(self, text: str, base: int, last: int):
        self.text, self.base = text, base
        self.last = min(last, base + MAX_SPAN)

    @staticmethod
    def encode(items: list) -> "_MetricRows":
        """Encode queued ``(METRIC, µs, step, row)`` items (in logging order)."""
        a, b = items[0][1] // 1_000_000, items[-1][1] // 1_000_000
        return _MetricRows(_items_json(items), min(a, b), max(a, b))

    @staticmethod
    def merge(parts: list) -> "_MetricRows":
        """One statement's worth of rows from several prepared batches, in order."""
        if len(parts) == 1:
            return parts[0]
        return _MetricRows("[" + ",".join(p.text[1:-1] for p in parts) + "]",
                           min(p.base for p in parts), max(p.last for p in parts))

    def insert(self, conn, run_id: str, run_name: str) -> None:
        conn.execute(_INSERT_BATCH, (run_id, run_name, self.text, _prefixes(self.base, self.last),
                                     self.base, self.last))


def _prefixes(base: int, last: int) -> str:
    """``"YYYY-MM-DDTHH:MM:SS"`` (UTC) of every second from ``base`` to ``last``, concatenated."""
    return "".join(format_us(sec * 1_000_000)[:19] for sec in range(base, last + 1))


def _items_json(items: list) -> str:
    """One JSON array text of the queue items, valid UTF-8 (rows with a lone surrogate get
    backslash-u escapes, the others keep their text)."""
    try:
        # Encoded in slices: the C encoder holds the GIL for a whole call, and between slices the
        # commit thread (back from SQLite) and the training loop get their turn.
        parts = [_encode(items[i:i + ENCODE_SLICE])[1:-1] for i in range(0, len(items), ENCODE_SLICE)]
        text = "[" + ",".join(parts) + "]"
        text.encode("utf-8")
        return text
    except (TypeError, ValueError, UnicodeEncodeError):
        return "[" + ",".join(_utf8_json(item) for item in items) + "]"


def _utf8_json(obj) -> str:
    """Compact JSON of ``obj`` that is valid UTF-8 (``\\u`` escapes if a lone surrogate needs them)."""
    text = _dumps(obj)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _encode_ascii(json.loads(text))


def _utf8_row(row: tuple, json_col: int | None) -> tuple:
    """A parameter row whose strings SQLite can store as UTF-8: a JSON column gets ``\\u`` escapes,
    other text backslash escapes, for a lone surrogate (e.g. from a non-UTF-8 file name)."""
    out = list(row)
    for i, v in enumerate(out):
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                out[i] = (_encode_ascii(json.loads(v)) if i == json_col
                          else v.encode("utf-8", "backslashreplace").decode("utf-8"))
    return tuple(out)


def _insert(conn, sql, rows, json_col) -> None:
    conn.executemany(sql, [_utf8_row(r, json_col) for r in rows])


def upsert_config(conn, run_id: str, run_name: str, config_json: str, created_at: str) -> None:
    """Insert or update the ``configs`` row of ``run_id`` (``created_at`` kept when it exists)."""
    cur = conn.execute("UPDATE configs SET config=?, run_name=? WHERE run_id=?", (config_json, run_name, run_id))
    if cur.rowcount == 0:
        conn.execute("INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?,?,?,?)",
                     (run_id, run_name, config_json, created_at))


def _before_fork() -> None:
    _sqlite_gate.acquire()


def _after_fork_in_parent() -> None:
    _sqlite_gate.release()


def _after_fork_in_child() -> None:
    global _sqlite_gate
    _sqlite_gate = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
