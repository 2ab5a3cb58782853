"""``trackio get …``: project, run, metric, snapshot, system-metric, alerts (contract §4.6–4.11)."""

import typer

from ..store import reader, readmetrics
from .common import (AroundOpt, AtTimeOpt, CliError, JsonOpt, LevelOpt, OptRunOpt, ProjectOpt, RunOpt,
                     SinceOpt, SpaceOpt, StepOpt, TokenOpt, WindowOpt, data_directory, group_help,
                     open_project, pick_run, window_of)
from .alerts import alerts_command
from .output import emit_json, human, lines, short_ts, table

app = typer.Typer(name="get", help="Show a project, run, metric, snapshot, system metric or alerts.")
app.callback(invoke_without_command=True)(group_help)


@app.command("project")
def get_project(project: ProjectOpt, json_: JsonOpt = False, space: SpaceOpt = None,
                hf_token: TokenOpt = None) -> None:
    """Show a project: its runs (creation order, with status) and the max step logged."""
    with open_project(project, data_directory(space, hf_token)) as conn:
        runs = reader.project_runs(conn)
        last = reader.last_step(conn, runs)
    if json_:
        return emit_json({"project": project, "num_runs": len(runs),
                          "runs": [{"id": r.id, "name": r.name, "created_at": r.created_at, "status": r.status}
                                   for r in runs], "last_activity": last})
    lines(f"Project: {project}", f"Number of runs: {len(runs)}", "")
    if runs:
        lines("Runs:")
        table(["Run ID", "Name", "Created", "Status"], [[r.id, r.name, short_ts(r.created_at), r.status] for r in runs],
              indent=2)
    else:
        lines("No runs found.")
    if last is not None:
        lines("", f"Last activity (max step): {last}")


@app.command("run")
def get_run(project: ProjectOpt, run: RunOpt, json_: JsonOpt = False, space: SpaceOpt = None,
            hf_token: TokenOpt = None) -> None:
    """Show a run: id, status, number of logs, last step, metric names and config."""
    with open_project(project, data_directory(space, hf_token)) as conn:
        r = pick_run(conn, project, run)
        num_logs, last_step = reader.run_stats(conn, r.id)
        names = readmetrics.metric_names(conn, r.id)
        config = reader.read_config(conn, r.id)
    if json_:
        return emit_json({"project": project, "run": r.name, "run_id": r.id, "num_logs": num_logs,
                          "metrics": names, "config": reader.finite(config or {}), "last_step": last_step,
                          "status": r.status})
    out = [f"Project: {project}", f"Run: {r.name}", f"Run ID: {r.id}", f"Status: {r.status}",
           f"Number of logs: {num_logs}"]
    if last_step is not None:
        out.append(f"Last step: {last_step}")
    out.append("")
    out += ["Metrics:", *(f"  - {n}" for n in names)] if names else ["No metrics found."]
    out.append("")
    if config is None:
        out.append("Config: (no config)")
    else:
        shown = [f"  {k}: {human(v)}" for k, v in config.items() if not str(k).startswith("_")]
        out += ["Config:", *(shown or ["  (no config)"])]
    lines(*out)


def _entry(ts, step, value) -> dict:
    return {"timestamp": ts, "step": step, "value": value}


@app.command("metric")
def get_metric(project: ProjectOpt, run: RunOpt,
               metric: str = typer.Option(..., "--metric", help="Metric name (flattened, e.g. train/loss)."),
               step: StepOpt = None, around: AroundOpt = None, at_time: AtTimeOpt = None, window: WindowOpt = 10,
               json_: JsonOpt = False, space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """Show the values of one metric of a run, in logging order (optionally a window of it)."""
    win = window_of(step, around, at_time, window)
    with open_project(project, data_directory(space, hf_token)) as conn:
        r = pick_run(conn, project, run)
        if json_:
            chunks, count = readmetrics.metric_values_json(conn, r.id, metric, win)
        else:
            values = readmetrics.metric_values(conn, r.id, metric, win)
            count = len(values)
        if count == 0 and (win is None or not readmetrics.metric_exists(conn, r.id, metric)):
            raise CliError(f"Metric '{metric}' not found in run '{run}' of project '{project}'.")
    head = {"project": project, "run": r.name, "run_id": r.id, "metric": metric}
    if json_:
        return emit_json(head, "values", chunks)
    if not values:
        return lines("No metric values found.")
    lines(f"Found {len(values)} value(s):", "")
    table(["Step", "Timestamp", "Value"], [[human(s), ts, human(v)] for ts, s, v in values])


@app.command("snapshot")
def get_snapshot(project: ProjectOpt, run: RunOpt, step: StepOpt = None, around: AroundOpt = None,
                 at_time: AtTimeOpt = None, window: WindowOpt = 10, json_: JsonOpt = False,
                 space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """Show every metric of a run at a step, around a step, or around a time."""
    win = window_of(step, around, at_time, window)
    if win is None:
        raise CliError("Provide --step, --around (with --window), or --at-time (with --window).")
    with open_project(project, data_directory(space, hf_token)) as conn:
        r = pick_run(conn, project, run)
        snap = readmetrics.snapshot(conn, r.id, win)
    if json_:
        mode = {"step": win.value} if win.kind == "step" else {win.kind: win.value, "window": win.width}
        return emit_json({"project": project, "run": r.name, "run_id": r.id,
                          "metrics": {k: [_entry(*v) for v in rows] for k, rows in snap.items()}, **mode})
    if not snap:
        return lines("No metrics found in the specified range.")
    for name in sorted(snap):
        lines("", f"{name}:")
        table(["Step", "Timestamp", "Value"], [[human(s), ts, human(v)] for ts, s, v in snap[name]], indent=2)


@app.command("system-metric")
def get_system_metric(project: ProjectOpt, run: RunOpt,
                      metric: str = typer.Option(None, "--metric", show_default=False,
                                                 help="Only this system metric (e.g. cpu/utilization)."),
                      json_: JsonOpt = False, space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """Show a run's system metrics (all entries, or one metric's values)."""
    with open_project(project, data_directory(space, hf_token)) as conn:
        r = pick_run(conn, project, run)
        entries = readmetrics.system_entries(conn, r.id, metric)
    if metric is not None and not entries:
        raise CliError(f"System metric '{metric}' not found in run '{run}' of project '{project}'.")
    if json_:
        head = {"project": project, "run": r.name, "run_id": r.id}
        if metric is None:
            return emit_json({**head, "system_metrics": entries})
        return emit_json({**head, "metric": metric, "values": entries})
    if not entries:
        return lines("No system metrics found.")
    out = [f"Found {len(entries)} system metric entry/entries:", ""]
    for i, e in enumerate(entries, 1):
        out += ["", f"Entry {i} (Timestamp: {e['timestamp']}):"]
        out += [f"  {k}: {human(v)}" for k, v in e.items() if k != "timestamp"]
    lines(*out)


@app.command("alerts")
def get_alerts(project: ProjectOpt, run: OptRunOpt = None, level: LevelOpt = None, since: SinceOpt = None,
               json_: JsonOpt = False, space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """Show a project's alerts, newest first (same as `trackio list alerts`)."""
    alerts_command(project, run, level, since, json_, space, hf_token)
