"""``trackio list …``: projects, runs, metrics, system metrics, alerts (contract §4.2–4.6)."""

import typer

from ..store import reader
from .alerts import alerts_command
from .common import (JsonOpt, LevelOpt, OptRunOpt, ProjectOpt, RunOpt, SinceOpt, SpaceOpt, TokenOpt,
                     data_directory, group_help, note, open_project, pick_run)
from .output import emit_json, lines, short_ts, table

app = typer.Typer(name="list", help="List projects, runs, metrics, system metrics or alerts.")
app.callback(invoke_without_command=True)(group_help)


@app.command("projects")
def list_projects(json_: JsonOpt = False, space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """List the projects in the data directory (TRACKIO_DIR)."""
    names, problems = reader.scan_projects(data_directory(space, hf_token))
    for path, why in problems:
        note(f"Warning: skipping '{path}': {why}.")
    if json_:
        return emit_json({"projects": names})
    if not names:
        return lines("No projects found.")
    lines("Projects:", *(f"  - {n}" for n in names))


@app.command("runs")
def list_runs(project: ProjectOpt, json_: JsonOpt = False, space: SpaceOpt = None,
              hf_token: TokenOpt = None) -> None:
    """List a project's runs in creation order, with their status."""
    with open_project(project, data_directory(space, hf_token)) as conn:
        runs = reader.project_runs(conn)
    if json_:
        return emit_json({"project": project, "runs": [r.name for r in runs],
                          "run_details": [{"id": r.id, "name": r.name, "created_at": r.created_at,
                                           "status": r.status} for r in runs]})
    if not runs:
        return lines(f"No runs in '{project}' found.")
    lines(f"Runs in '{project}':")
    table(["Name", "Run ID", "Created", "Status"], [[r.name, r.id, short_ts(r.created_at), r.status] for r in runs])


def _names(kind: str, project: str, run_ref: str, space, hf_token) -> tuple[str, str, list[str]]:
    from ..store import readmetrics

    with open_project(project, data_directory(space, hf_token)) as conn:
        run = pick_run(conn, project, run_ref)
        return run.name, run.id, readmetrics.metric_names(conn, run.id, kind)


@app.command("metrics")
def list_metrics(project: ProjectOpt, run: RunOpt, json_: JsonOpt = False, space: SpaceOpt = None,
                 hf_token: TokenOpt = None) -> None:
    """List a run's metric names (flattened, sorted)."""
    name, run_id, names = _names("metrics", project, run, space, hf_token)
    if json_:
        return emit_json({"project": project, "run": name, "run_id": run_id, "metrics": names})
    if not names:
        return lines(f"No metrics for '{name}' in '{project}' found.")
    lines(f"Metrics for '{name}' in '{project}':", *(f"  - {n}" for n in names))


@app.command("system-metrics")
def list_system_metrics(project: ProjectOpt, run: RunOpt, json_: JsonOpt = False, space: SpaceOpt = None,
                        hf_token: TokenOpt = None) -> None:
    """List a run's system metric names (CPU, GPU, memory, …)."""
    name, run_id, names = _names("system_metrics", project, run, space, hf_token)
    if json_:
        return emit_json({"project": project, "run": name, "run_id": run_id, "system_metrics": names})
    if not names:
        return lines("No system metrics found.")
    lines("System Metrics:", *(f"  - {n}" for n in names))


@app.command("alerts")
def list_alerts(project: ProjectOpt, run: OptRunOpt = None, level: LevelOpt = None, since: SinceOpt = None,
                json_: JsonOpt = False, space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """List a project's alerts, newest first."""
    alerts_command(project, run, level, since, json_, space, hf_token)
