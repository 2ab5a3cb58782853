"""``init`` steps 3–5: open the project file, pick the run, write its rows, start its writer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .config import Config
from .run import Run
from .store import schema
from .store.runs import open_run
from .store.timefmt import now_ts
from .store.writer import Writer, encode_json, upsert_config


def open_project_run(*, directory: Path, project: str, canon: str, name, group, resume: str, user_config: dict,
                     space_id, webhook_url, webhook_min_level) -> Run:
    """Create the directory, file and schema; attach or create the run in one transaction; return the
    :class:`Run` with its writer running.

    Raises:
        ValueError: ``resume="must"`` and the run does not exist (nothing is written).
        sqlite3.Error / OSError: the file cannot be created, opened or migrated.
    """
    path = directory / f"{canon}.db"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        conn = schema.connect_writer(path)
    except (OSError, sqlite3.Error) as e:
        raise OSError(f"trackio cannot create or open its database {path}: {e}") from None
    try:
        schema.ensure_schema(conn)
        now = now_ts()

        def transaction():
            conn.execute("BEGIN IMMEDIATE")
            try:
                opened = open_run(conn, name or None, resume, group, project, now)
                merged = dict(opened.stored_config or {})
                merged.update(user_config)
                merged["_Username"] = None
                merged["_Created"] = (opened.stored_config or {}).get("_Created") or opened.created_at
                if group is not None or "_Group" not in merged:
                    merged["_Group"] = group
                upsert_config(conn, opened.run_id, opened.name, encode_json(merged), opened.created_at)
                if space_id:
                    conn.execute("INSERT INTO project_metadata (key, value) VALUES ('space_id', ?) "
                                 "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (space_id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return opened, merged

        opened, merged = schema._retry(transaction)
    except sqlite3.IntegrityError as e:
        conn.close()
        # Files from trackio before run ids keep one config per run name (UNIQUE(run_name)).
        raise ValueError(f"Project file {path} was written by an older trackio that allows one run per name "
                         f"({e}); use resume=\"allow\" to continue run '{name}', or pick another name.") from None
    except sqlite3.DatabaseError as e:
        conn.close()
        raise OSError(f"trackio cannot write its database {path}: {e}") from None
    except BaseException:
        conn.close()
        raise
    config = Config(merged)
    run = Run(project=project, canon=canon, path=path, run_id=opened.run_id, name=opened.name,
              group=group if group is not None else merged.get("_Group"), config=config,
              created_at=opened.created_at,
              next_step=min(opened.max_step + 1, 2**63 - 1) if opened.max_step is not None else 0, space_id=space_id,
              webhook_url=webhook_url, webhook_min_level=webhook_min_level, media_root=directory / "media")
    run._resumed = opened.resumed
    run._name_taken = opened.name_taken and not opened.resumed
    writer = Writer(conn, run.id, run.name, config, opened.created_at)
    writer.mark_config_saved(config._version)
    run._attach_writer(writer)
    return run
