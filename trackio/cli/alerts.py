"""Alerts listing shared by ``trackio list alerts`` and ``trackio get alerts`` (contract §4.6)."""

from __future__ import annotations

from ..store import reader
from .common import CliError, data_directory, open_project, pick_run
from .output import emit_json, human, lines, table


def alerts_command(project: str, run: str | None, level, since: str | None, json_: bool, space, hf_token) -> None:
    """Shared body of ``list alerts`` and ``get alerts`` (identical commands)."""
    lvl = level  # already normalised to lowercase by the --level callback
    with open_project(project, data_directory(space, hf_token)) as conn:
        run_id, run_label = None, run
        if run is not None:
            try:
                picked = pick_run(conn, project, run)
                run_id, run_label = picked.id, picked.name
            except CliError:  # no run matches: an empty list, as upstream (contract §4.6)
                run_id = None
        alerts = [] if run is not None and run_id is None else reader.read_alerts(conn, run_id, lvl, since)
    if json_:
        return emit_json({"project": project, "run": run_label, "level": lvl, "since": since, "alerts": alerts})
    if not alerts:
        return lines("No alerts found.")
    lines(f"Found {len(alerts)} alert(s):", "")
    table(["Timestamp", "Run", "Level", "Title", "Text", "Step"],
          [[a["timestamp"], a["run"], a["level"].upper(), a["title"], a["text"] or "",
            "" if a["step"] is None else human(a["step"])] for a in alerts])
