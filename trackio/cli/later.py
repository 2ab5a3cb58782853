"""Commands whose behaviour other parts of trackio provide: ``show``, ``tui``, ``export``, ``sync``,
``demo`` (contract §4.14–4.16). Their flags are registered here; each body hands over to its module.
"""

from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import CliError, OptRunOpt, SpaceOpt, TokenOpt, data_directory, note

OptProject = Annotated[Optional[str], typer.Option("--project", show_default=False, help="Project name.")]


@contextmanager
def _project_errors(project: str):
    """Turn the store's project errors into the contract's ``Error:`` lines."""
    from ..store.reader import ProjectNotFound, ProjectUnreadable

    try:
        yield
    except ProjectNotFound:
        raise CliError(f"Project '{project}' not found.") from None
    except ProjectUnreadable as e:
        raise CliError(f"Could not read project '{project}': {e}") from None


def _finite(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise typer.BadParameter(f"{value} is not a finite number of seconds.")
    return value


def tui(project: OptProject = None, run: OptRunOpt = None,
        interval: float = typer.Option(1.0, "--interval", min=0.25, metavar="S", callback=_finite,
                                       help="Refresh interval in seconds (at least 0.25)."),
        space: SpaceOpt = None, hf_token: TokenOpt = None) -> None:
    """Open the live terminal dashboard (a text summary when stdin or stdout is not a terminal)."""
    from ..tui import run_tui

    run_tui(project=project, run=run, interval=interval, directory=data_directory(space, hf_token))


def show(registry: Optional[str] = typer.Argument(None, hidden=True, show_default=False),
         project: OptProject = None,
         theme: Optional[str] = typer.Option(None, "--theme", show_default=False, hidden=True),
         mcp_server: Optional[bool] = typer.Option(None, "--mcp-server", show_default=False, hidden=True),
         footer: Optional[bool] = typer.Option(None, "--footer/--no-footer", show_default=False, hidden=True),
         color_palette: Optional[str] = typer.Option(None, "--color-palette", show_default=False, hidden=True),
         host: Optional[str] = typer.Option(None, "--host", show_default=False, hidden=True),
         frontend: Optional[Path] = typer.Option(None, "--frontend", show_default=False, hidden=True),
         web: bool = typer.Option(False, "--web", help="Serve the static web dashboard on 127.0.0.1 instead "
                                                       "(default project: the only or most recently written one; "
                                                       "Ctrl+C stops it, exit 0)."),
         port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, show_default=False,
                                            help="Port for --web (default 7860; 0 picks a free one).")) -> None:
    """Open the dashboard: the terminal dashboard (same as `trackio tui`), or the web one with --web."""
    if registry is not None:
        if registry != "registry":
            raise typer.BadParameter(f"'{registry}' is not a dashboard; choose a project with --project.",
                                     param_hint="'[REGISTRY]'")
        raise CliError("The registry dashboard is not supported.")
    if not web:
        given = {"--theme": theme, "--mcp-server": mcp_server, "--footer": footer is True,
                 "--no-footer": footer is False, "--color-palette": color_palette, "--host": host,
                 "--frontend": frontend, "--port": port}
        for flag, value in given.items():
            if value not in (None, False):
                note(f"Note: {flag} has no effect on the terminal dashboard.")
        from ..tui import run_tui

        run_tui(project=project)
        return
    if project is None:
        project = _latest_project()
    from ..web import serve

    port = 7860 if port is None else port
    with _project_errors(project):
        try:
            serve(project, port=port)
        except OSError as e:
            import errno

            if e.errno == errno.EADDRINUSE:
                raise CliError(f"Port {port} is already in use; choose another with --port (0 picks a free one).") \
                    from None
            raise CliError(f"Cannot serve on 127.0.0.1:{port}: {e.strerror or e}") from None


def _latest_project() -> str:
    """The only project in the data directory, else the one written most recently (``.db``/``-wal``
    modification time)."""
    from ..store.paths import data_dir
    from ..store.reader import list_projects

    d = data_dir()
    names = list_projects(d)
    if not names:
        raise CliError(f"No projects found in {d}.")

    def written(name: str) -> float:
        times = [p.stat().st_mtime for p in (d / f"{name}.db", d / f"{name}.db-wal") if p.exists()]
        return max(times, default=0.0)
    return max(names, key=written)


def export(project: str = typer.Option(..., "--project", help="Project name."),
           out: Path = typer.Option(..., "--out", metavar="DIR", help="Directory to write the static site to.")) -> None:
    """Write a project's static web dashboard (page and data files) to a directory."""
    from ..web import export_project

    with _project_errors(project):
        try:
            result = export_project(project, out)
        except (ValueError, OSError) as e:  # a folder holding other files, or one we cannot write
            raise CliError(str(e)) from None
    from .output import lines

    lines(f"* Exported project '{project}' ({result.runs} run(s), {result.data_bytes / 1e6:.2f} MB of data, "
          f"{result.files_written} file(s) written) to: {result.out_dir}",
          f"* Open {result.out_dir / 'index.html'} in a browser, or put the folder on any static host.")


class Sdk(str, Enum):
    """Space SDK names accepted by ``sync --sdk`` (both make a static Space)."""

    gradio = "gradio"
    static = "static"


def sync(project: OptProject = None,
         all_: bool = typer.Option(False, "--all", help="Sync every project with unsynced changes."),
         space_id: Optional[str] = typer.Option(None, "--space-id", metavar="ID", show_default=False,
                                                help="Target Space (default: the project's, or TRACKIO_SPACE_ID)."),
         private: bool = typer.Option(False, "--private", help="Create the Space as private."),
         force: bool = typer.Option(False, "--force", help="Rebuild every file and repair whatever differs on the Space."),
         sdk: Sdk = typer.Option(Sdk.gradio, "--sdk", help="Accepted for compatibility; the Space is static."),
         frontend: Optional[Path] = typer.Option(None, "--frontend", metavar="DIR", show_default=False, hidden=True)) -> None:
    """Push a project (or all unsynced projects) to a static Hugging Face Space."""
    if all_ and project is not None:
        raise CliError("Cannot use --all and --project together.")
    if not all_ and project is None:
        raise CliError("Must provide either --project or --all.")
    from ..web import SyncError, sync_all

    with _project_errors(project or ""):
        try:
            if all_:
                sync_all(force=force)
            else:
                import trackio

                trackio.sync(project, space_id=space_id, private=True if private else None, force=force,
                             sdk=sdk.value)
        except (SyncError, ValueError) as e:
            raise CliError(str(e)) from None


def demo(project: str = typer.Option("demo", "--project", help="Project to write the demo runs into."),
         steps: Optional[int] = typer.Option(None, "--steps", min=1, show_default=False,
                                             help="Steps per demo run (default 600)."),
         live: bool = typer.Option(False, "--live", help="Train in the background and watch it in `trackio tui`.")) -> None:
    """Train three small real runs (scikit-learn's digits data) into a project, with alerts."""
    from ..demo import DemoUnavailable, run_demo

    try:
        run_demo(project=project, steps=steps, live=live)
    except DemoUnavailable as e:
        raise CliError(str(e)) from None
