"""Helpers of the dashboard tests: real projects written through the real API, polling waits, and
the text the app has on screen."""

from __future__ import annotations

import contextlib
import io
import math
import time

from trackio.tui.screens.workspace import WorkspaceScreen


def write_project(name: str = "exp", runs: int = 2, steps: int = 300, alerts: bool = True) -> list:
    import trackio

    made = []
    with contextlib.redirect_stdout(io.StringIO()):
        for r in range(runs):
            run = trackio.init(project=name, name=f"run-{r}", config={"lr": 0.01 * (r + 1)},
                               auto_log_cpu=False, auto_log_gpu=False)
            for s in range(steps):
                row = {"train/loss": math.exp(-s / 100) + r * 0.1, "train/acc": s / steps, "lr": 0.01}
                if s == steps // 2:
                    row["train/loss"] = float("nan")
                if s % 50 == 49:
                    row["val/loss"] = math.exp(-s / 100)
                trackio.log(row)
                if s % 100 == 0:
                    trackio.log_system({"cpu": {"utilization": 50.0 + s % 7}})
            if alerts:
                run.alert(f"alert {r}", "text", level=("info", "warn", "error")[r % 3], step=steps // 3)
            trackio.finish()
            made.append(run)
    return made


async def wait_for(pilot, cond, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


def loaded(app, runs: int):
    def ok():
        s = app.screen
        return isinstance(s, WorkspaceScreen) and len(s.project.runs) == runs and s.project.loading == 0 \
            and all(r.ids.n for r in s.project.runs.values())
    return ok


def braille_in(chart) -> int:
    return sum(1 for strip in chart._strips for seg in strip for ch in seg.text if 0x2801 <= ord(ch) <= 0x28FF)


def write_demo(project: str = "demo", steps: int = 200) -> None:
    """The three runs of ``trackio demo`` (real training on the digits data), ``steps`` each."""
    import trackio.demo as demo

    data = demo.load_data()
    with contextlib.redirect_stdout(io.StringIO()):
        for kind in demo.RUNS:
            demo.train(project, kind, kind, steps=steps, data=data)


def screen_lines(app) -> list[str]:
    """The app's screen as text lines, as a terminal would show them (every widget composited)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def region_text(app, widget) -> str:
    """The on-screen text inside ``widget``'s region (what the user sees of it, scrolled and clipped)."""
    r = widget.region
    lines = screen_lines(app)[r.y:r.y + r.height]
    return "\n".join(line[r.x:r.x + r.width] for line in lines)
