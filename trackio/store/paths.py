"""Where projects live on disk and how a project name maps to a file name.

Rules from the interface contract §2.1: the data directory is resolved at each call (never frozen at
import), one SQLite file ``<dir>/<canon(P)>.db`` per project.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_NAME_BYTES = 244  # 255 bytes per file name, minus the ".db-journal" SQLite needs beside the file
RESERVED_SUFFIXES = (
    "_system",
    "_configs",
    "_traces",
    "_artifacts",
    "_artifact_versions",
    "_artifact_aliases",
    "_run_artifact_links",
)


def data_dir() -> Path:
    """Return the data directory (not created).

    ``TRACKIO_DIR``; else ``$HF_HOME/trackio``; else ``$XDG_CACHE_HOME/huggingface/trackio``; else
    ``~/.cache/huggingface/trackio``. Read from the environment at every call.
    """
    env = os.environ
    if env.get("TRACKIO_DIR"):
        return Path(env["TRACKIO_DIR"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "trackio"
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "huggingface" / "trackio"
    return Path.home() / ".cache" / "huggingface" / "trackio"


def canon(project: str) -> str:
    """Map a project name to its on-disk stem.

    Keeps characters ``c`` with ``c.isalnum()`` (Unicode letters and digits count) or ``c in "-_"``;
    an empty result becomes ``"default"``. ``"my.model"`` → ``"mymodel"``, ``"ünï"`` → ``"ünï"``.
    """
    kept = "".join(c for c in str(project) if c.isalnum() or c in "-_")
    return kept or "default"


def validate_project(project: str) -> str:
    """Check that ``project`` may be created and return ``canon(project)``.

    Raises:
        ValueError: the name is not a string, its canonical form is longer than
            :data:`MAX_NAME_BYTES` bytes, starts with ``registry-``, or ends with a suffix upstream
            trackio reserves for its side files (the message names the rule).
    """
    if not isinstance(project, str):
        raise ValueError(f"Project name must be a string, got {type(project).__name__}")
    c = canon(project)
    if c.startswith("registry-"):
        raise ValueError(
            f"Project name '{project}' is not allowed: names starting with 'registry-' are reserved."
        )
    size = len(c.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ValueError(
            f"Project name '{project}' is not allowed: its file name would be {size} bytes long; the limit "
            f"is {MAX_NAME_BYTES} bytes (file systems allow 255 bytes per name, and SQLite adds '.db-journal')."
        )
    for suffix in RESERVED_SUFFIXES:
        if len(c) > len(suffix) and c.endswith(suffix):
            raise ValueError(
                f"Project name '{project}' is not allowed: the suffix '{suffix}' is reserved "
                f"(it would collide with files kept for project '{c[: -len(suffix)]}')."
            )
    return c


def project_path(project: str, directory: Path | None = None) -> Path:
    """Return ``<dir>/<canon(project)>.db`` (the file may not exist)."""
    return (directory or data_dir()) / f"{canon(project)}.db"


def run_dir_name(run_name: str) -> str:
    """Make a run name safe as one path component for media files (contract §1.10)."""
    safe = run_name.replace("/", "_").replace("\\", "_").replace("\x00", "_")
    return "_" if safe in (".", "..", "") else safe
