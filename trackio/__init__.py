"""trackio: a terminal-first experiment tracker, drop-in compatible with Hugging Face's ``trackio``.

``init`` a run, ``log`` dicts of metrics, ``alert`` on events, ``finish``. Everything lands in one SQLite
file per project under the data directory (``TRACKIO_DIR``). The interface is specified in the
project's contract (API §1, storage §2, alerts §3). Importing this package loads only the standard
library; UI and Hub packages are imported where used.
"""

from __future__ import annotations

import os
import warnings

from . import _state, context_vars
from ._version import __version__
from .alerts import AlertLevel, invalid_level_text, parse_level
from .config import Config

__all__ = ["init", "log", "finish", "alert", "log_system", "log_cpu", "log_gpu", "show", "sync", "freeze",
           "Run", "AlertLevel", "Table", "Image", "Histogram", "Trace", "Api", "config", "context_vars",
           "__version__"]

config = Config()
_current_run = context_vars.current_run.get

_RESUME_MODES = ("must", "allow", "never")
_LAZY = {"Table": "media", "Image": "media", "Histogram": "media", "Trace": "media", "Api": "api", "Run": "run"}


def __getattr__(name: str):
    # Run, the media classes and Api live in modules that import more (the writer, webhooks); load
    # them on first use so that `import trackio` (and the CLI, a subpackage) stays light.
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'trackio' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(f"trackio.{mod}"), name)
    globals()[name] = value
    return value


def init(project: str, name: str | None = None, group: str | None = None, space_id: str | None = None,
         server_url: str | None = None, dataset_id: str | None = None, bucket_id: str | None = None,
         config: dict | None = None, resume: str = "never", settings=None, private: bool | None = None,
         embed: bool = True, auto_log_gpu: bool | None = None, gpu_log_interval: float = 10.0,
         auto_log_cpu: bool | None = None, cpu_log_interval: float = 10.0, webhook_url: str | None = None,
         webhook_min_level: AlertLevel | str | None = None) -> Run:
    """Start (or resume) a run of ``project`` and make it current; returns the :class:`Run`.

    The run exists on disk when this returns (``runs`` and ``configs`` rows). ``resume``: ``"never"``
    (new run; a notice if the name exists), ``"allow"`` (attach to the newest run of that name, else
    new) or ``"must"`` (attach, else ValueError). A run already active in this process is finished
    first. ``server_url``/``dataset_id``/``bucket_id`` and ``settings`` are accepted and warned about;
    ``private`` and ``embed`` are accepted and unused here.

    Raises:
        ValueError: unknown ``resume``; ``resume="must"`` without a name or for a missing run; a
            project name that cannot be a file name or is reserved; a config key starting with ``_``;
            an invalid ``webhook_min_level`` (or ``TRACKIO_WEBHOOK_MIN_LEVEL``).
        sqlite3.Error / OSError: the data directory or project file cannot be written.
    """
    from .store.paths import data_dir, validate_project
    from .values import to_json_safe

    # 1. Validate before any output or disk write.
    if resume not in _RESUME_MODES:
        raise ValueError("resume must be one of: 'must', 'allow', or 'never'")
    if resume == "must" and not name:
        raise ValueError("Must provide a run name when resume='must'")
    if name is not None and not isinstance(name, str):
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        else:
            raise ValueError(f"Run name must be a string, got {type(name).__name__}")
    canon = validate_project(project)
    user_config = _config_dict(config)
    for key in user_config:
        if isinstance(key, str) and key.startswith("_"):
            raise ValueError(f"Config key '{key}' is reserved (keys starting with '_' are reserved for internal use)")
    min_level = webhook_min_level
    if min_level is None:
        env_level = os.environ.get("TRACKIO_WEBHOOK_MIN_LEVEL")
        min_level = env_level if env_level and env_level.strip() else None
    if min_level is not None:
        parsed = parse_level(min_level)
        if parsed is None:
            raise ValueError(invalid_level_text(min_level.value if isinstance(min_level, AlertLevel) else min_level))
        min_level = parsed
    for kw, val in (("server_url", server_url), ("dataset_id", dataset_id), ("bucket_id", bucket_id)):
        if val is not None:
            warnings.warn(f"{kw} is not supported by this trackio (local storage only); ignoring it.",
                          UserWarning, stacklevel=2)
    if settings is not None:
        warnings.warn("* Warning: settings is not used. Provided for compatibility with wandb.init().",
                      UserWarning, stacklevel=2)
    if space_id is None:
        space_id = os.environ.get("TRACKIO_SPACE_ID") or None
    if space_id:  # USER/NAME, NAME or a Space URL; a name the Hub would refuse is neither stored nor synced to
        from .store.spaceid import parse_space_id

        try:
            space_id = parse_space_id(space_id, bare=True)
        except ValueError as e:
            warnings.warn(f"{e} The run is logged locally and not synced to a Space.", UserWarning, stacklevel=2)
            space_id = None
    webhook_url = webhook_url or os.environ.get("TRACKIO_WEBHOOK_URL") or None

    # 2. Finish a run already active in this process.
    previous = _state.current()
    if previous is not None:
        previous.finish()

    # 3–4. Data directory, schema, the run's rows.
    from ._open import open_project_run

    directory = data_dir()
    run = open_project_run(
        directory=directory, project=project, canon=canon, name=name, group=group, resume=resume,
        user_config={str(k): to_json_safe(v) for k, v in user_config.items()}, space_id=space_id,
        webhook_url=webhook_url, webhook_min_level=min_level)

    # 5. Samplers (system metrics).
    from .system import start_samplers

    notes = start_samplers(run, auto_log_cpu, cpu_log_interval, auto_log_gpu, gpu_log_interval)
    if space_id:  # push the project to its Space in the background (trackio/web/background.py)
        from .web.background import start_background_sync

        start_background_sync(run, directory)

    # 6. Current run, context variables, trackio.config.
    _state.activate(run)
    globals()["config"] = run.config

    # 7. Console lines.
    from .console import BOLD_ORANGE, paint, say

    if project not in _state.banner_shown:
        _state.banner_shown.add(project)
        say(f"* Trackio project initialized: {project}")
        say(f"* Trackio metrics logged to: {directory}")
        say("* View dashboard by running in your terminal:")
        say(paint(f'trackio show --project "{project}"', BOLD_ORANGE))
        say(f'* or by running in Python: trackio.show(project="{project}")')
    for note in notes:
        say(note)
    if run._resumed:
        say(f"* Resumed existing run: {run.name}")
    else:
        say(f"* Created new run: {run.name}")
        if run._name_taken:
            say(f"* A run named '{run.name}' already exists in project '{project}'; created a new run with "
                f'the same name. Pass resume="allow" to continue the existing run.')
    return run


def _config_dict(config) -> dict:
    if config is None:
        return {}
    if hasattr(config, "keys"):
        return dict(config)
    attrs = getattr(config, "__dict__", None)
    if isinstance(attrs, dict):
        return {k: v for k, v in attrs.items() if not k.startswith("_")}
    fields = getattr(config, "__dataclass_fields__", None)
    if isinstance(fields, dict):  # a dataclass with __slots__
        return {k: getattr(config, k, None) for k in fields if not k.startswith("_")}
    raise ValueError(f"config must be a mapping or an object with attributes, got {type(config).__name__}")


def _require(fn: str) -> Run:
    run = _state.current()
    if run is None:
        raise RuntimeError(f"Call trackio.init() before trackio.{fn}().")
    return run


def log(metrics: dict, step: int | None = None) -> None:
    """Log one row of metrics to the current run (contract §1.6).

    ``metrics``: a mapping of names to values (nested mappings are flattened with ``/``); ``step``: an
    integer step, or None for the next implicit step. Never raises after ``init``: invalid values,
    keys and steps produce one ``UserWarning`` each and the rest is kept.

    Raises:
        RuntimeError: no active run (``Call trackio.init() before trackio.log().``).
    """
    run = _current_run()
    if run is None or run._finished:  # (inlined _state.current(): this is the hot path)
        run = _state.active
        if run is None:
            raise RuntimeError("Call trackio.init() before trackio.log().")
    run._log(metrics, step, 3)


def finish() -> None:
    """Finish the current run: commit everything, mark it ``finished`` (contract §1.7).

    Raises:
        RuntimeError: no active run.
    """
    _require("finish").finish()


def alert(title: str, text: str | None = None, level: AlertLevel | str = AlertLevel.WARN,
          webhook_url: str | None = None) -> None:
    """Fire an alert on the current run: printed at once, stored, sent to the webhook (contract §3).

    Raises:
        RuntimeError: no active run.
    """
    _require("alert")._alert(title, text, level, None, webhook_url, 3)


def log_system(metrics: dict) -> None:
    """Log one row of system metrics (no step) to the current run (contract §1.9).

    Raises:
        RuntimeError: no active run.
    """
    _require("log_system")._log_system(metrics, 3)


def log_cpu(run: Run | None = None) -> dict:
    """Sample CPU/memory now, log it as system metrics and return it (``{}`` without psutil).

    Raises:
        RuntimeError: no run given and no active run.
    """
    from .system import sample_cpu

    target = run or _require("log_cpu")
    sample = sample_cpu()
    if sample:
        target._log_system(sample, 3)
    return sample


def log_gpu(run: Run | None = None, device: int | None = None) -> dict:
    """Sample NVIDIA GPUs now, log it as system metrics and return it (``{}`` without nvidia-ml-py).

    Raises:
        RuntimeError: no run given and no active run.
    """
    from .system import sample_gpu

    target = run or _require("log_gpu")
    sample = sample_gpu(device)
    if sample:
        target._log_system(sample, 3)
    return sample


def show(project: str | None = None, *, dashboard=None, theme=None, mcp_server=None, footer=True,
         color_palette=None, open_browser=True, block_thread=None, host=None, share=None, server_port=None,
         frontend_dir=None) -> None:
    """Open the terminal dashboard on ``project`` when stdin and stdout are TTYs; otherwise print how to
    open it. Web-only keywords are accepted and ignored (contract §1.11), each one given with a
    note on stderr, as ``trackio show`` does for its flags."""
    import sys

    from .console import BOLD_ORANGE, paint, say

    given = {"dashboard": dashboard, "theme": theme, "mcp_server": mcp_server, "footer": None if footer is True else footer,
             "color_palette": color_palette, "open_browser": None if open_browser is True else open_browser,
             "block_thread": block_thread, "host": host, "share": share, "server_port": server_port,
             "frontend_dir": frontend_dir}
    for name, value in given.items():
        if value is not None:
            try:
                print(f"Note: {name}= has no effect on the terminal dashboard.", file=sys.stderr, flush=True)
            except (OSError, ValueError):  # a closed stderr must not stop the caller
                pass
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        try:
            from .tui import run_tui
        except ImportError:
            run_tui = None
        if run_tui is not None:
            run_tui(project=project)
            return
    say("* View dashboard by running in your terminal:")
    say(paint(f'trackio show --project "{project}"' if project else "trackio show", BOLD_ORANGE))


def sync(project: str, space_id: str | None = None, private: bool | None = None, force: bool = False,
         run_in_background: bool = False, sdk: str = "gradio", dataset_id: str | None = None,
         bucket_id: str | None = None, frontend_dir: str | None = None) -> str:
    """Publish ``project`` as a static Hugging Face Space and return its id (contract §1.11).

    Raises:
        ValueError: ``sdk`` is not ``"gradio"`` or ``"static"``.
        RuntimeError: syncing is not available in this build.
    """
    if sdk not in ("gradio", "static"):
        raise ValueError(f"sdk must be 'gradio' or 'static', got '{sdk}'")
    try:
        from .web.sync import sync_project
    except ImportError:
        raise RuntimeError("trackio sync is not available yet in this build.") from None
    return sync_project(project, space_id=space_id, private=private, force=force,
                        run_in_background=run_in_background, dataset_id=dataset_id, bucket_id=bucket_id)


def freeze(space_id: str, project: str, new_space_id: str | None = None, private: bool | None = None,
           bucket_id: str | None = None, frontend_dir: str | None = None) -> str:
    """Same as ``sync(project, space_id=new_space_id or space_id, private=private, force=True,
    sdk="static")``: our Spaces are always static snapshots."""
    return sync(project, space_id=new_space_id or space_id, private=private, force=True, sdk="static",
                bucket_id=bucket_id)


del annotations
