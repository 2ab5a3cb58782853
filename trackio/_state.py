"""Process-wide state: the active run, the atexit finish and fork handling (contract §1.5, §1.7)."""

from __future__ import annotations

import atexit
import os

from . import context_vars

active = None  # the last run started and not finished in this process
banner_shown: set[str] = set()  # projects (as given) whose init banner was printed
sampler_notes: set[tuple[str, str]] = set()  # (project, kind) whose auto-sampler note was printed
_atexit_registered = False


def current():
    """The run module-level functions act on: ``current_run`` in this context, else the active run."""
    run = context_vars.current_run.get()
    if run is not None and not run._finished:
        return run
    return active


def activate(run) -> None:
    """Make ``run`` current in this context and the process-wide active run."""
    global active, _atexit_registered
    active = run
    context_vars.current_run.set(run)
    context_vars.current_project.set(run.project)
    context_vars.current_space_id.set(run._space_id)
    if not _atexit_registered:
        atexit.register(_at_exit)
        _atexit_registered = True


def deactivate(run) -> None:
    """Forget ``run`` as current (called by ``finish``)."""
    global active
    if active is run:
        active = None
    if context_vars.current_run.get() is run:
        context_vars.current_run.set(None)
        context_vars.current_project.set(None)
        context_vars.current_space_id.set(None)


def _at_exit() -> None:
    from . import webhooks

    run = active
    if run is not None:
        try:
            run.finish()
        except Exception:
            pass
    else:
        webhooks.wait_pending(5.0)


def _after_fork_in_child() -> None:
    if active is not None:
        active._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
