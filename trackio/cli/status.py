"""``trackio status``: local projects and whether their Space copies are up to date (contract §4.13)."""

from __future__ import annotations

import sqlite3

from ..store.reader import ProjectUnreadable, scan_projects
from ..store.paths import data_dir
from ..store.syncstate import project_sync_state
from .common import note
from .output import lines


def status() -> None:
    """Show how many local projects there are, how many are synced to Spaces, and which have changes
    not yet synced."""
    directory = data_dir()
    names, problems = scan_projects(directory)
    for path, why in problems:
        note(f"Warning: skipping '{path}': {why}.")
    out = ["Reading local Trackio projects...", ""]
    if not names:
        return lines(*out, "No Trackio projects found.")
    local, synced, unsynced = [], [], []
    for name in names:
        try:
            _, state = project_sync_state(directory / f"{name}.db")
        except (ProjectUnreadable, sqlite3.DatabaseError) as e:
            note(f"Warning: could not read project '{name}': {e}")
            continue
        {"local": local, "synced": synced, "unsynced": unsynced}[state].append(name)
    out.append("Finished reading Trackio projects")
    if local:
        out.append(f"  * {len(local)} local trackio project(s) [OK]")
    if synced:
        out.append(f"  * {len(synced)} trackio project(s) synced to Spaces [OK]")
    if unsynced:
        out.append(f"  * {len(unsynced)} trackio project(s) with unsynced changes [WARNING]:")
        out += [f"    - {n}" for n in unsynced]
        out += ["", f"Run `trackio sync --project {unsynced[0]}` to sync. "
                    "Or run `trackio sync --all` to sync all unsynced changes."]
    lines(*out)
