"""``trackio.Api``: read a project's runs from Python (contract §1.11), read-only.

``Api().runs("my-project")`` opens the project file read-only (as the CLI does), lists its runs in
creation order (contract §2.5: ours and upstream-written ones) with their stored configs, and closes the
file again. There is no ``delete``/``move``: this package never rewrites a project from the API.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from .store import reader
from .store.runs import project_runs, run_id_expr, tables


class StoredRun:
    """One run as stored: ``id`` (32 hex for ours; the run name for old upstream files), ``name``,
    ``project`` (as passed to :meth:`Api.runs`), ``config`` (the stored dict, ``_`` keys included, ``{}``
    when none), plus ``group``, ``created_at`` (stored timestamp text or None) and ``status``
    (``running``/``finished``/``crashed``/``unknown``, computed when read)."""

    __slots__ = ("id", "name", "project", "config", "group", "created_at", "status")

    def __init__(self, *, id: str, name: str, project: str, config: dict, group, created_at, status: str):
        self.id, self.name, self.project, self.config = id, name, project, config
        self.group, self.created_at, self.status = group, created_at, status

    def __repr__(self) -> str:
        return f"<trackio.api.StoredRun project={self.project!r} name={self.name!r} id={self.id} status={self.status}>"


class Runs(Sequence):
    """The runs of one project in creation order: ``len(runs)``, ``runs[i]``, iteration."""

    def __init__(self, project: str, runs: list[StoredRun]):
        self.project = project
        self._runs = runs

    def __len__(self) -> int:
        return len(self._runs)

    def __getitem__(self, index):
        return self._runs[index]

    def __iter__(self) -> Iterator[StoredRun]:
        return iter(self._runs)

    def __repr__(self) -> str:
        return f"<trackio.api.Runs project={self.project!r} runs={[r.name for r in self._runs]!r}>"


class Api:
    """Read access to the projects under the data directory (``TRACKIO_DIR``, resolved at each call).

    ``directory`` overrides the data directory (for tools reading a copied folder).
    """

    def __init__(self, directory: str | Path | None = None):
        self._directory = Path(directory) if directory is not None else None

    def runs(self, project: str) -> Runs:
        """The runs of ``project`` with their stored configs, in creation order.

        Raises:
            ValueError: ``Project '<P>' not found.`` when there is no file for ``canon(project)``.
            trackio.store.reader.ProjectUnreadable: ``Could not read project '<P>': <reason>``.
        """
        try:
            conn = reader.open_project(project, self._directory)
        except reader.ProjectNotFound:
            raise ValueError(f"Project '{project}' not found.") from None
        except reader.ProjectUnreadable as e:
            raise reader.ProjectUnreadable(f"Could not read project '{project}': {e}") from None
        try:
            rows = project_runs(conn)
            configs: dict = {}
            if "configs" in tables(conn):
                col = run_id_expr(conn, "configs")
                for rid, text in conn.execute(f"SELECT {col}, config FROM configs ORDER BY id"):
                    configs[rid] = text
        except Exception as e:  # sqlite3.DatabaseError: corrupt file, not a trackio project, ...
            raise reader.ProjectUnreadable(f"Could not read project '{project}': {e}") from None
        finally:
            conn.close()
        out = []
        for r in rows:
            config = reader.decode_json(configs.get(r.id))
            out.append(StoredRun(id=r.id, name=r.name, project=project,
                                 config=config if isinstance(config, dict) else {}, group=r.group,
                                 created_at=r.created_at, status=r.status))
        return Runs(project, out)

    def projects(self) -> list[str]:
        """Canonical names of the projects in the data directory, sorted (``[]`` when there are none)."""
        return reader.list_projects(self._directory)


__all__ = ["Api", "Runs", "StoredRun"]
