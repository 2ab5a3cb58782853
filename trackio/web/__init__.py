"""The static web dashboard: export, sync to a Hugging Face Space, and a local live server.

Plain functions for the CLI and the Python API (each module is imported on first use, so importing
this package loads only the standard library):

- :func:`export_project` (``trackio export``), :func:`serve` (``trackio show --web``),
- :func:`sync_project` / :func:`sync_all` (``trackio sync``, ``trackio.sync()``).

Reading a Space back (``--space``) is :func:`trackio.store.remote.fetch_space`.
"""

from __future__ import annotations

_EXPORTS = {"export_project": "export", "ExportResult": "export", "ExportDirNotEmpty": "export",
            "sync_project": "sync", "sync_all": "sync", "SyncError": "hub", "serve": "server"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'trackio.web' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(f"trackio.web.{mod}"), name)
    globals()[name] = value
    return value
