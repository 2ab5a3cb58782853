"""Conventions every command shares (contract §4.1): options, errors, project and run resolution.

A handled error raises :class:`CliError`; the runner prints ``Error: <message>`` on stderr and exits
1, with nothing on stdout. Usage errors (exit 2) are typer's ``BadParameter``. Commands compute
everything first and print last, so an error never leaves half an answer on stdout.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from ..store.paths import canon, data_dir
from ..store.reader import (LEVELS, ProjectUnreadable, RunNotFound, RunRow, connect_reader, lenient_text,
                            project_runs, resolve_run)
from ..store.timefmt import OutOfRange, parse_ts
from .output import safe


class CliError(Exception):
    """A handled error: ``Error: <message>`` on stderr, exit 1."""


def plain_help() -> None:
    """Before typer renders help: with ``NO_COLOR`` set (non-empty), give typer's rich console no
    colour system at all. Rich alone drops colours under ``NO_COLOR`` but keeps bold and dim, and the
    contract allows no ANSI then. Imports typer's rich help module, so call it only for help."""
    if os.environ.get("NO_COLOR"):
        from typer import rich_utils

        rich_utils.COLOR_SYSTEM = None


def group_help(ctx: typer.Context) -> None:
    # A group named without a command prints its help on stdout and exits 0, as the program does.
    if ctx.invoked_subcommand is None:
        plain_help()
        sys.stdout.write(ctx.get_help() + "\n")
        raise typer.Exit()


def note(message: str) -> None:
    """A notice or warning on stderr (never on stdout, so ``--json`` output stays one document);
    control characters are escaped."""
    sys.stderr.write(safe(message) + "\n")
    sys.stderr.flush()


TS_HELP = ("ISO 8601: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.ffffff]] ('T' or a space), optional Z or ±HH:MM "
           "offset; no offset means UTC.")


def _timestamp(value: Optional[str]) -> Optional[str]:
    if value is not None:
        try:
            parse_ts(value)
        except OutOfRange as e:
            raise typer.BadParameter(str(e)) from None
        except ValueError:
            raise typer.BadParameter(
                f"'{value}' is not an ISO 8601 timestamp. Expected YYYY-MM-DD or "
                f"YYYY-MM-DDTHH:MM[:SS[.ffffff]] ('T' or a space), with an optional Z or ±HH:MM offset "
                f"(none means UTC).") from None
    return value


def _level(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    level = value.strip().lower()
    if level not in LEVELS:
        raise typer.BadParameter(f"'{value}' is not one of 'info', 'warn', 'error'.")
    return level


def _non_negative(value: int) -> int:
    if value < 0:
        raise typer.BadParameter(f"{value} is not in the range x>=0.")
    return value


ProjectOpt = Annotated[str, typer.Option("--project", help="Project name, as given to trackio.init().",
                                         show_default=False)]
RunOpt = Annotated[str, typer.Option("--run", help="Run id, or run name (the newest run of that name).",
                                     show_default=False)]
OptRunOpt = Annotated[Optional[str], typer.Option("--run", show_default=False,
                                                  help="Only this run: run id, or run name (the newest run of that name).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one strict JSON document on stdout.")]
SpaceOpt = Annotated[Optional[str], typer.Option(
    "--space", metavar="ID_OR_URL", show_default=False, rich_help_panel="Remote",
    help="Read the project from the data a Hugging Face Space received through `trackio sync`.")]
TokenOpt = Annotated[Optional[str], typer.Option(
    "--hf-token", metavar="TOKEN", envvar="HF_TOKEN", show_default=False, show_envvar=True,
    rich_help_panel="Remote", help="Hugging Face token for a private Space.")]
SinceOpt = Annotated[Optional[str], typer.Option("--since", metavar="TIMESTAMP", callback=_timestamp,
                                                 show_default=False, help=f"Only alerts after this instant. {TS_HELP}")]
LevelOpt = Annotated[Optional[str], typer.Option("--level", callback=_level, metavar="[info|warn|error]",
                                                 show_default=False, help="Only alerts of this level (any case).")]
StepOpt = Annotated[Optional[int], typer.Option("--step", metavar="N", show_default=False,
                                                help="Rows logged at step N.")]
AroundOpt = Annotated[Optional[int], typer.Option("--around", metavar="N", show_default=False,
                                                  help="Rows with N-W <= step <= N+W (W = --window).")]
AtTimeOpt = Annotated[Optional[str], typer.Option(
    "--at-time", metavar="TIMESTAMP", callback=_timestamp, show_default=False,
    help=f"Rows logged within ±W seconds of this instant (W = --window). {TS_HELP}")]
WindowOpt = Annotated[int, typer.Option("--window", metavar="W", callback=_non_negative,
                                        help="Half-width for --around (steps) and --at-time (seconds).")]


def window_of(step: int | None, around: int | None, at_time: str | None, width: int):
    """The window mode given (``--step`` > ``--around`` > ``--at-time``), ``None`` when none is.

    Returns a :class:`~trackio.store.readmetrics.Window` or ``None``. Raises typer.BadParameter
    (exit 2) when more than one mode is given.
    """
    from ..store.readmetrics import Window

    given = [name for name, v in (("--step", step), ("--around", around), ("--at-time", at_time)) if v is not None]
    if len(given) > 1:
        raise typer.BadParameter(
            f"cannot be combined with {given[0]}. Give one of --step N, --around N [--window W] or "
            f"--at-time TIMESTAMP [--window W].", param_hint=f"'{given[1]}'")
    if step is not None:
        return Window("step", step, width)
    if around is not None:
        return Window("around", around, width)
    if at_time is not None:
        return Window("at_time", at_time, width)
    return None


def data_directory(space: str | None, token: str | None) -> Path:
    """Where projects are read from: the local data directory, or a Space's data (``--space``)."""
    if space is None:
        return data_dir()
    try:
        from ..store.remote import fetch_space
    except ImportError:
        raise CliError("--space is not available yet.") from None
    try:
        return Path(fetch_space(space, token))
    except Exception as e:  # the remote reader's errors carry the message to show
        raise CliError(str(e) or f"Space '{space}' has no trackio data.") from None


@contextmanager
def open_project(project: str, directory: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the project's file, closed on exit. Text that is not valid UTF-8
    reads with U+FFFD in place of the bad bytes (one bad value must not hide the whole project).

    Raises CliError ``Project 'P' not found.`` or ``Could not read project 'P': <file>: <reason>``
    (also for a file that turns out to be corrupt while being read).
    """
    path = directory / f"{canon(project)}.db"
    if not path.is_file():
        raise CliError(f"Project '{project}' not found.")
    try:
        conn = connect_reader(path, text_factory=lenient_text)
    except ProjectUnreadable as e:
        raise CliError(f"Could not read project '{project}': {e}") from None
    try:
        yield conn
    except sqlite3.DatabaseError as e:
        raise CliError(f"Could not read project '{project}': {path}: {e}") from None
    finally:
        conn.close()


def pick_run(conn: sqlite3.Connection, project: str, ref: str, runs: list[RunRow] | None = None) -> RunRow:
    """Resolve ``--run`` (id, else newest of that name; a note on stderr when the name is ambiguous).

    Raises CliError ``Run 'R' not found in project 'P'.``
    """
    try:
        run, same = resolve_run(project_runs(conn) if runs is None else runs, ref)
    except RunNotFound:
        raise CliError(f"Run '{ref}' not found in project '{project}'.") from None
    if same:
        note(f"Note: {len(same)} runs in project '{project}' are named '{ref}'; using the newest "
             f"(id {run.id}). Pass a run id to --run to choose another.")
    return run
