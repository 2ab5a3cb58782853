"""Background sync for ``trackio.init(project, space_id=...)``: keep the Space close to live.

A daemon thread syncs the project (:func:`trackio.web.sync.run_sync`) right away, then at most once
every :data:`INTERVAL` seconds while rows keep arriving (and every :data:`KEEPALIVE` seconds while the
run lives, so the Space's copy of the run's heartbeat stays fresh). ``log()`` is never involved: the
thread reads the project file with its own read-only connection. When the Hub is down or answers
429/5xx, the attempt retries within itself (``Retry-After`` honoured), then the next attempt is
pushed back (doubling up to :data:`MAX_BACKOFF`, at least what the Hub asked), the data stays local
and the project reads as unsynced (``trackio status``), and one warning says so. A rate limit (the Hub
answered and named a wait) is waited out silently. ``finish()`` runs a last sync bounded by
:data:`FINISH_TIMEOUT` seconds (only :data:`FINISH_AFTER_FAILURE` when the Hub was unreachable a
moment ago; a rate limit keeps the full budget, so a named wait within it is honoured) and prints the
Space URL; the warning then appears only when the data really stays pending. Nothing here raises into
training.

What the syncs import is imported when the thread starts: a script may end right after ``init()``,
and during interpreter shutdown a module that registers an exit hook (``concurrent.futures.thread``,
which ``huggingface_hub`` uses) can no longer be imported.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path

from .hub import SyncError

INTERVAL = 60.0  # seconds between two syncs while training
KEEPALIVE = 300.0  # seconds after which a running project is synced even without new rows
FINISH_TIMEOUT = 30.0  # seconds finish() waits for the last sync
FINISH_AFTER_FAILURE = 5.0  # seconds for that last sync when the previous attempt failed (Hub down)
ATTEMPT_TIMEOUT = 300.0  # seconds one background attempt may take
MAX_BACKOFF = 600.0  # longest pause after failures
SQUASH_EVERY = 240  # syncs (about 4 hours at one a minute) between squashes of the Space's git history


class BackgroundSync:
    """The syncing thread of one run. Use :func:`start_background_sync`."""

    def __init__(self, project: str, directory: Path, space_id: str, run=None):
        self.project, self.directory, self.space_id = project, directory, space_id
        self._full_id: str | None = space_id if "/" in space_id else None
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._cancel = threading.Event()  # set at finish: an attempt stuck in retry waits gives up
        self._warned = False
        self._failures = 0
        self._rate_limited = False  # the last failure was the Hub asking for a wait (429/503 + Retry-After)
        self._run = run
        self._commits = 0
        self._last_fp: str | None = None
        self._last_ok = float("-inf")
        self._next = 0.0
        self._thread = threading.Thread(target=self._loop, name="trackio-space-sync", daemon=True)
        self._thread.start()

    # -- the thread --------------------------------------------------------------------------
    def _loop(self) -> None:
        from .hub import CANCEL

        CANCEL.set(self._cancel)  # finish() ends this thread's retry waits at once
        _preload()
        first = True  # made even when finish() came during the imports: it tells finish() how the Hub is
        while first or not self._stop.is_set():
            if first or time.monotonic() >= self._next:
                self._attempt(ATTEMPT_TIMEOUT, periodic=True)
            first = False
            self._stop.wait(max(0.05, self._next - time.monotonic()))

    def _attempt(self, timeout: float, periodic: bool) -> bool:
        """One sync; True when the Space now has everything (or nothing needed sending)."""
        try:
            from ..store.syncstate import project_fingerprint
            from .sync import resolve_space_id, run_sync

            fp = project_fingerprint(self.project, self.directory)
            if (fp is not None and fp == self._last_fp and
                    (not periodic or time.monotonic() - self._last_ok < KEEPALIVE)):
                self._next = time.monotonic() + INTERVAL
                return True
            deadline = time.monotonic() + timeout
            if self._full_id is None:
                self._full_id = resolve_space_id(self.project, self.space_id, self.directory, deadline=deadline)
                if self._run is not None:  # run.url now names the Space the sync writes to
                    self._run._space_id = self._full_id
            done = run_sync(self.project, self._full_id, directory=self.directory,
                            timeout=max(1.0, deadline - time.monotonic()), quiet=True,
                            cancel=self._cancel if periodic else None)
            self._last_fp = done["fingerprint"]
            self._last_ok = time.monotonic()
            self._failures = 0
            self._rate_limited = False
            if done.get("commits"):
                self._commits += 1
                if self._commits % SQUASH_EVERY == 0:
                    self._squash()
            self._next = time.monotonic() + INTERVAL
            return True
        except Exception as e:  # never into training
            self._failures += 1
            asked = getattr(e, "retry_after", None) if isinstance(e, SyncError) else None
            self._rate_limited = asked is not None
            if periodic and self._cancel.is_set():
                # finish() stopped this attempt while it waited to retry; finish() syncs once more
                # itself and warns only if that fails too.
                return False
            pause = min(MAX_BACKOFF, INTERVAL * 2 ** (self._failures - 1))
            self._next = time.monotonic() + max(pause, asked or 0.0)
            if not (periodic and self._rate_limited):  # a rate limit during training: just wait longer
                self._warn(e)
            return False

    def _squash(self) -> None:
        """Collapse the Space's history into one commit: a sync a minute for days would otherwise pile
        up thousands of commits, past which the Hub slows down (hub-docs storage-limits). The files are
        unchanged; another machine's next commit just restarts its sync (HTTP 412)."""
        from .hub import client

        try:
            client().super_squash_history(self._full_id, repo_type="space",
                                          commit_message="trackio: squash sync history")
        except Exception:
            pass  # history size is a nicety, never worth a warning

    def _warn(self, e: BaseException) -> None:
        if self._warned:
            return
        self._warned = True
        target = self._full_id or self.space_id
        try:
            warnings.warn(f"trackio could not sync project '{self.project}' to Space '{target}' ({e}); the data "
                          f"is kept locally and marked pending. Run `trackio sync --project \"{self.project}\"` "
                          f"to push it later.", UserWarning, stacklevel=2)
        except Exception:
            pass

    # -- finish --------------------------------------------------------------------------------
    def finish(self, run=None) -> None:
        """Stop the periodic syncs and push once more, waiting at most :data:`FINISH_TIMEOUT` s in all;
        print the Space URL when the Space has everything."""
        from ..console import BOLD_ORANGE, paint, say
        from .hub import space_url

        if os.getpid() != self._pid:  # a forked child: the parent syncs
            return
        deadline = time.monotonic() + FINISH_TIMEOUT
        self._stop.set()
        self._cancel.set()
        self._thread.join(FINISH_TIMEOUT)
        url = space_url(self._full_id or self.space_id)
        if self._thread.is_alive():  # an attempt is stuck on the network
            self._warn(TimeoutError(f"the sync did not finish within {FINISH_TIMEOUT:g} s"))
            return
        say(f"* Syncing project '{self.project}' to: {paint(url, BOLD_ORANGE)} (please wait...)")
        left = deadline - time.monotonic()
        if self._failures and not self._rate_limited:  # unreachable a moment ago: one short try
            left = min(left, FINISH_AFTER_FAILURE)
        if left > 0.5 and self._attempt(left, periodic=False):
            say(f"* Static Space deployed: {paint(space_url(self._full_id or self.space_id), BOLD_ORANGE)}")
        elif left <= 0.5:
            self._warn(TimeoutError(f"the sync did not finish within {FINISH_TIMEOUT:g} s"))


def _preload() -> None:
    """Import what a sync uses (see module doc); a failure here shows up, and is reported, in the sync."""
    try:
        import huggingface_hub.hf_api  # noqa: F401

        from . import raw, sync  # noqa: F401
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi  # noqa: F401
    except Exception:
        pass


def start_background_sync(run, directory: Path) -> BackgroundSync | None:
    """Start syncing ``run``'s project to ``run._space_id`` and register the last sync at finish."""
    import concurrent.futures.thread  # noqa: F401 - see the module doc: needed before any shutdown begins

    try:
        sync = BackgroundSync(run.project, Path(directory), run._space_id, run)
        run._on_finish.append(sync.finish)
        return sync
    except Exception as e:  # never into training
        warnings.warn(f"trackio could not start syncing to Space '{run._space_id}': {e}", UserWarning, stacklevel=3)
        return None
