"""``trackio query project --sql``: one read-only SQL statement over a project file (contract §4.12)."""

import typer

from ..store.paths import canon
from ..store.reader import ProjectUnreadable, lenient_text
from ..store.readquery import QueryError, run_query
from .common import CliError, JsonOpt, ProjectOpt, SpaceOpt, TokenOpt, data_directory, group_help
from .output import emit_json, grid, human, lines

app = typer.Typer(name="query", help="Run a read-only SQL query against a project.")
app.callback(invoke_without_command=True)(group_help)


def cell_text(v) -> str:
    """A result cell for people: NULL → empty, other values as :func:`~trackio.cli.output.human`."""
    return "" if v is None else human(v)


@app.command("project")
def query_project(project: ProjectOpt,
                  sql: str = typer.Option(..., "--sql", help="One SELECT, WITH or safe PRAGMA statement."),
                  json_: JsonOpt = False, space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """Run one read-only SQL statement against the project's SQLite file (at most 10,000 rows).

    Tables: metrics, configs, system_metrics, alerts, runs, project_metadata. Metric values are JSON
    in metrics.metrics, e.g. json_extract(metrics, '$."train/loss"').
    """
    path = data_directory(space, hf_token) / f"{canon(project)}.db"
    if not path.is_file():
        raise CliError(f"Project '{project}' not found.")
    try:
        res = run_query(path, sql, text_factory=lenient_text)
    except QueryError as e:
        raise CliError(str(e)) from None
    except ProjectUnreadable as e:
        raise CliError(f"Could not read project '{project}': {e}") from None
    if json_:
        return emit_json({"project": project, "query": res.sql, "columns": res.columns,
                          "rows": [dict(zip(res.columns, r)) for r in res.rows], "row_count": len(res.rows)})
    lines(f"Query returned {len(res.rows)} row(s).")
    if not res.columns:
        return
    out = grid(res.columns, [[cell_text(v) for v in r] for r in res.rows])
    lines(*out, *(["(no rows)"] if not res.rows else []))
