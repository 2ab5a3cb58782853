"""The ``trackio`` typer app: command tree, ``--version``, and the runner that owns exit codes.

Exit codes (contract §4.1): 0 success (also "nothing found"); 1 a handled error, one line
``Error: <message>`` on stderr; 2 a usage error in click's plain format (usage line, then the error
naming the option); 130 on Ctrl-C. Help is rendered by typer (with rich; no ANSI at all under
``NO_COLOR``); errors are plain text so that agents can read them and so that no read command
imports rich, with control characters escaped so that each error stays one line.

Start-up: the groups ``list``, ``get`` and ``query`` live in their own modules; when the command line
names one of them, only that group is imported and turned into click commands (typer builds every
registered command on each start, about 0.2 ms per command). Help and completion see the full tree.
"""

import importlib
import io
import sys
from typing import Annotated

import typer

from .._version import __version__
from .common import CliError, plain_help
from .output import safe

HELP = ("trackio: experiment tracking in the terminal. Read projects, runs, metrics and alerts (add --json "
        "for agents), watch runs live with `trackio tui`, publish to a Hugging Face Space with `trackio sync`.")
GROUPS = {"list": "listing", "get": "getting", "query": "query"}  # group name → module in this package


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"trackio {__version__}\n")
        raise typer.Exit()


def _root(ctx: typer.Context,
          version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    if ctx.invoked_subcommand is None:
        plain_help()
        sys.stdout.write(ctx.get_help() + "\n")
        raise typer.Exit()


def status() -> None:
    """Show local projects and which have changes not yet synced to their Space."""
    from .status import status as run_status

    run_status()


def build(argv: list[str] | None = None) -> typer.Typer:
    """The app for ``argv``: every command, or only the group ``argv`` names (see module docstring)."""
    app = typer.Typer(name="trackio", help=HELP, pretty_exceptions_enable=False)
    app.callback(invoke_without_command=True)(_root)
    first = next((a for a in argv or () if not a.startswith("-")), None)
    groups = [first] if first in GROUPS else list(GROUPS)
    if first not in GROUPS:
        from . import later

        app.command("status")(status)
        for name in ("show", "tui", "sync", "export", "demo"):
            app.command(name)(getattr(later, name))
    for name in groups:
        app.add_typer(importlib.import_module(f".{GROUPS[name]}", __package__).app, name=name)
    return app


_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the command, and return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--help" in argv:
        plain_help()
    command = typer.main.get_command(build(argv))
    try:
        rv = command.main(args=argv, prog_name="trackio", standalone_mode=False)
    except CliError as e:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {safe(str(e))}\n")
        return 1
    except _ClickException as e:
        shown = io.StringIO()
        e.show(shown)  # usage line(s), then `Error: <message>`; the message may quote a value given
        message = e.format_message()  # on the command line: one line, control characters escaped
        text = shown.getvalue().replace(message, safe(message)) if message else shown.getvalue()
        sys.stderr.write("\n".join(safe(line) for line in text.split("\n")))
        return e.exit_code
    except typer.Abort:
        sys.stderr.write("Aborted!\n")
        return 1
    return rv if isinstance(rv, int) else 0
