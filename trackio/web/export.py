"""``trackio export``: write a project as a self-contained static site into a folder.

The folder gets ``index.html``, the page's JS/CSS (uPlot vendored under ``vendor/`` with its
licence) and the data files described in :mod:`trackio.store.spacefmt`. Re-exporting into the same
folder only rewrites what changed (``trackio show --web`` relies on this); every file is replaced
atomically, chunks first and the index last, so a page polling the folder never reads a half-written
or dangling file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..store import spacefmt as fmt
from ..store.paths import project_path
from ..store.reader import open_project
from .build import Sink, build_project, build_site


class ExportResult(NamedTuple):
    """What :func:`export_project` did: the folder, the number of runs, the files it wrote or
    deleted this time, and the total size in bytes of the ``data/`` folder afterwards."""

    out_dir: Path
    runs: int
    files_written: int
    files_deleted: int
    data_bytes: int


class ExportDirNotEmpty(ValueError):
    """The output folder holds files that are not a trackio export of this project."""


class DirSink(Sink):
    """A sink writing into a local folder (atomic replace; unchanged files are left alone)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.written = 0
        self.deleted = 0

    def names(self, folder: str) -> set[str]:
        try:
            return {p.name for p in (self.root / folder).iterdir() if p.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            return set()

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def put(self, path: str, data: bytes) -> None:
        target = self.root / path
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        self.written += 1

    def delete(self, path: str) -> None:
        try:
            (self.root / path).unlink()
            self.deleted += 1
        except FileNotFoundError:
            pass


def _check_target(out: Path, project: str) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportDirNotEmpty(f"Output path '{out}' exists and is not a directory.")
    index = out / fmt.PROJECT_FILE
    if index.is_file():
        try:
            _, obj = fmt.unwrap(index.read_bytes())
            other = obj.get("project")
        except (ValueError, AttributeError):
            other = None
        if other == project:
            return
        raise ExportDirNotEmpty(f"Output directory '{out}' holds the export of another project "
                                f"('{other}'); choose an empty or new directory.")
    if any(out.iterdir()):
        raise ExportDirNotEmpty(f"Output directory '{out}' is not empty and is not a trackio export; "
                                f"choose an empty or new directory.")


def export_project(project: str, out_dir, directory: Path | None = None, force: bool = False,
                   workers: int | None = None) -> ExportResult:
    """Export ``project`` (from ``directory``, default the data directory) as a static site in ``out_dir``.

    The folder is created if needed; an earlier export of the same project there is updated in place.
    ``force`` rebuilds every chunk. ``workers``: processes for a big cold export; None = one per core
    (up to 4) when this process can fork safely (Linux, no other thread), else 1 (see
    :mod:`trackio.web.parallel`). Each metric series is downsampled to at most
    :data:`~trackio.store.spacefmt.MAX_POINTS` points (min/max/last per bucket, see
    :mod:`trackio.web.view`).

    Raises:
        trackio.store.reader.ProjectNotFound: no file for the project.
        trackio.store.reader.ProjectUnreadable: the file is not readable SQLite.
        ExportDirNotEmpty: ``out_dir`` holds something other than an export of this project.
        OSError: the folder cannot be written.
    """
    out = Path(out_dir)
    if workers is None:
        from .parallel import auto_workers

        workers = auto_workers()
    conn = open_project(project, directory)
    try:
        _check_target(out, project)
        out.mkdir(parents=True, exist_ok=True)
        sink = DirSink(out)
        build_site(sink)
        summaries = build_project(conn, project, sink, force=force, db_path=project_path(project, directory),
                                  workers=workers)
    finally:
        conn.close()
    size = sum(p.stat().st_size for p in (out / fmt.DATA).rglob("*") if p.is_file())
    return ExportResult(out, len(summaries), sink.written, sink.deleted, size)
