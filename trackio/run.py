"""The ``Run`` object: the logging hot path, alerts and finishing (contract §1.3, §1.6–1.8)."""

from __future__ import annotations

import os
import threading
from time import time_ns as _time_ns
import warnings
from collections.abc import Mapping

from .alerts import AlertLevel, alert_line, invalid_level_text, parse_level, rank
from .config import Config
from .console import say
from .store import ALERT, METRIC, SYSTEM
from .store.writer import BACKLOG as _BACKLOG
from .values import check_step, process_metrics

_INT64_MAX = 2**63 - 1
FINISH_TIMEOUT = 30.0  # seconds finish() waits for the final commit
WEBHOOK_WAIT = 5.0  # seconds finish() waits for pending webhook deliveries


class _MediaSlot:
    """Where media of the row being logged goes (read by ``Image._to_dict``)."""

    __slots__ = ("media_root", "project", "run_name", "step")

    def __init__(self, media_root, project, run_name):
        self.media_root, self.project, self.run_name, self.step = media_root, project, run_name, 0


class Run:
    """A run being logged by this process. Created by :func:`trackio.init` only.

    Attributes: ``id`` (32 lowercase hex), ``name``, ``group`` (str or None), ``project`` (as passed to
    ``init``), ``config`` (:class:`trackio.config.Config`), ``url`` (Space URL or None), ``_space_id``.
    """

    def __init__(self, *, project: str, canon: str, path, run_id: str, name: str, group, config: Config,
                 created_at: str, next_step: int, space_id, webhook_url, webhook_min_level, media_root):
        self.id = run_id
        self.name = name
        self.group = group
        self.project = project
        self.config = config
        self._space_id = space_id
        self._canon = canon
        self._path = path
        self._created_at = created_at
        self._next = next_step
        self._last_step = next_step - 1 if next_step > 0 else 0
        self._lock = threading.Lock()
        self._finished = False
        self._writer = None
        self._queue = None
        self._owns_status = True
        self._webhook_url = webhook_url
        self._webhook_min = webhook_min_level
        self._media = _MediaSlot(media_root, canon, name)
        self._samplers: list = []
        self._on_finish: list = []  # callables run at finish, after the final commit (e.g. Space sync)

    @property
    def url(self) -> str | None:
        """``<HF_ENDPOINT or https://huggingface.co>/spaces/<space_id>``, or None without a Space."""
        if not self._space_id:
            return None
        endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
        return f"{endpoint}/spaces/{self._space_id}"

    def __repr__(self) -> str:
        return f"<trackio.Run project={self.project!r} name={self.name!r} id={self.id}>"

    # -- writer plumbing -------------------------------------------------------------------------
    def _attach_writer(self, writer) -> None:
        self._writer = writer
        self._queue = writer.queue

    def _start_child_writer(self) -> None:
        """After a fork, the child lazily starts its own writer for the same run. The writer opens its
        connection on its own thread (``log()`` does no I/O) and writes only config changes made in
        the child; it never touches the run's status."""
        from .store.writer import Writer

        writer = Writer(None, self.id, self.name, self.config, self._created_at, owns_status=False, path=self._path)
        writer.mark_config_saved(self.config._version)
        self._attach_writer(writer)
        _flush_at_multiprocessing_exit(self)

    def _flush_child(self) -> None:
        """Commit a forked child's rows at its exit (bounded like ``finish``), leaving the run as is."""
        writer = self._writer
        if writer is not None and not self._finished:
            writer.close(None, FINISH_TIMEOUT)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._writer = None
        self._queue = None
        self._owns_status = False
        self._samplers = []

    def _enqueue(self, item) -> None:
        q = self._queue
        if q is None:
            self._start_child_writer()
            q = self._queue
        q.append(item)

    # -- logging ---------------------------------------------------------------------------------
    def log(self, metrics: dict, step: int | None = None) -> None:
        """Log one row of metrics (contract §1.6). Never raises: problems become ``UserWarning``s."""
        self._log(metrics, step, 3)

    def _log(self, metrics, step, stacklevel: int) -> None:
        t = _time_ns() // 1000
        if type(metrics) is not dict and not isinstance(metrics, Mapping):
            warnings.warn(f"trackio.log() failed to process metrics: expected a dict, got {type(metrics).__name__}",
                          UserWarning, stacklevel=stacklevel)
            return
        bad_step = None
        with self._lock:  # finish() takes this lock too: a row is either stored or warned about
            if self._finished:
                s = None
            elif step is None:
                s = self._next
            else:
                s = check_step(step)
                if s is None:
                    s, bad_step = self._next, step
            if s is not None:
                self._media.step = s
                try:
                    row, warns = process_metrics(metrics, True, self._media)
                except Exception as e:  # a mapping whose items() fails, ...
                    row, warns = {}, [f"trackio.log() failed to process metrics: {e}"]
                q = self._queue
                if q is None:
                    self._start_child_writer()
                    q = self._queue
                q.append((METRIC, t, s, row))
                if len(q) == _BACKLOG:  # rows pour in: start writing now, not at the next tick
                    self._writer.wake()
                if s >= self._next:
                    # The implicit step never leaves the signed 64-bit range: after 2**63 - 1 it repeats.
                    self._next = s + 1 if s < _INT64_MAX else s
                self._last_step = s
        if s is None:
            warnings.warn(f"trackio.log() called on finished run '{self.name}'; values dropped.",
                          UserWarning, stacklevel=stacklevel)
            return
        if bad_step is not None:
            warnings.warn(f"trackio.log() ignored invalid step {bad_step!r} (steps must be integers); "
                          f"logged at step {s}.", UserWarning, stacklevel=stacklevel)
        for w in warns:
            warnings.warn(w, UserWarning, stacklevel=stacklevel)

    def log_system(self, metrics: dict) -> None:
        """Log one ``system_metrics`` row (call-time timestamp, no step); same rules as :meth:`log`
        without reserved-key renaming."""
        self._log_system(metrics, 3)

    def _log_system(self, metrics, stacklevel: int) -> None:
        t = _time_ns() // 1000
        if not isinstance(metrics, Mapping):
            warnings.warn(f"trackio.log_system() failed to process metrics: expected a dict, got "
                          f"{type(metrics).__name__}", UserWarning, stacklevel=stacklevel)
            return
        try:
            row, warns = process_metrics(metrics, False, None)
        except Exception as e:
            row, warns = {}, [f"trackio.log_system() failed to process metrics: {e}"]
        with self._lock:
            finished = self._finished
            if not finished:
                self._enqueue((SYSTEM, t, row))
        if finished:
            warnings.warn(f"trackio.log_system() called on finished run '{self.name}'; values dropped.",
                          UserWarning, stacklevel=stacklevel)
            return
        for w in warns:
            warnings.warn(w.replace("trackio.log()", "trackio.log_system()"), UserWarning, stacklevel=stacklevel)

    # -- alerts ----------------------------------------------------------------------------------
    def alert(self, title: str, text: str | None = None, level: AlertLevel | str = AlertLevel.WARN,
              step: int | None = None, webhook_url: str | None = None) -> None:
        """Fire an alert: print it at once, store it, and deliver it to the webhook (contract §3).

        ``step`` (an int) overrides the default: the step of this run's latest ``log()`` in this
        process, else its max stored step, else 0. Never raises.
        """
        self._alert(title, text, level, step, webhook_url, 3)

    def _alert(self, title, text, level, step, webhook_url, stacklevel: int) -> None:
        t = _time_ns() // 1000
        try:
            lvl = parse_level(level)
            if lvl is None:
                warnings.warn(invalid_level_text(level) + " Using warn.", UserWarning, stacklevel=stacklevel)
                lvl = AlertLevel.WARN
            title = str(title)
            text = None if text is None else str(text)
            explicit = None if step is None else check_step(step)
            if step is not None and explicit is None:
                warnings.warn(f"trackio.alert() ignored invalid step {step!r} (steps must be integers "
                              f"in the signed 64-bit range); using step {self._last_step}.",
                              UserWarning, stacklevel=stacklevel)
            step = self._last_step if explicit is None else explicit
            say(alert_line(title, text, lvl, step))
            import uuid

            with self._lock:
                finished = self._finished
                if not finished:
                    self._enqueue((ALERT, t, title, text, lvl.value, step, uuid.uuid4().hex))
            if finished:
                warnings.warn(f"trackio.alert() called on finished run '{self.name}'; alert not stored.",
                              UserWarning, stacklevel=stacklevel)
                return
            url = webhook_url or self._webhook_url
            if url and (self._webhook_min is None or rank(lvl) >= rank(self._webhook_min)):
                from . import webhooks
                from .store.timefmt import format_us

                body = webhooks.payload(url, {"level": lvl.value, "title": title, "text": text,
                                              "project": self.project, "run": self.name, "step": int(step),
                                              "timestamp": format_us(t)})
                webhooks.sender().submit(url, body, title)
        except Exception as e:
            warnings.warn(f"trackio.alert() failed: {e}", UserWarning, stacklevel=stacklevel)

    # -- finishing -------------------------------------------------------------------------------
    def finish(self) -> None:
        """Commit everything, mark the run ``finished``, stop samplers, wait ≤ 5 s for webhooks.

        Idempotent. Warns ``Could not flush all logs within 30s. …`` if the commit takes longer.
        """
        from . import _state

        with self._lock:  # after this, no log() can enqueue behind the final commit
            if self._finished:
                return
            self._finished = True
        if self._owns_status:
            say("* Run finished. Uploading logs to Trackio (please wait...)")
        for sampler in self._samplers:
            try:
                sampler.stop()
            except Exception:
                pass
        writer = self._writer
        if writer is not None:
            ok = writer.close("finished" if self._owns_status else None, FINISH_TIMEOUT)
            if not ok:
                warnings.warn("Could not flush all logs within 30s. Some data may be buffered locally.",
                              UserWarning, stacklevel=3)
        from . import webhooks

        webhooks.wait_pending(WEBHOOK_WAIT)
        for hook in self._on_finish:
            try:
                hook(self)
            except Exception as e:
                warnings.warn(f"trackio: {e}", UserWarning, stacklevel=3)
        _state.deactivate(self)


def _flush_at_multiprocessing_exit(run: Run) -> None:
    """A ``multiprocessing`` child ends with ``os._exit`` (no ``atexit``) after running its finalizers:
    register one that commits what the child logged."""
    import sys

    if "multiprocessing" not in sys.modules:
        return
    try:
        from multiprocessing import util

        util.Finalize(None, run._flush_child, exitpriority=100)
    except Exception:
        pass
