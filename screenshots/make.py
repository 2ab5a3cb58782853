"""Regenerate the README screenshots of ``trackio tui``: ``python screenshots/make.py [OUT_DIR]``.

Writes a small deterministic project with the real trackio API (a synthetic training curve per run,
NaN and loss spikes, a sparse validation metric, system metrics, alerts, one crashed run and one
still running), then drives the real app headless and saves SVGs of the main views. Time is frozen:
every log call gets a timestamp from a fake clock, run ids come from a seeded generator and the
app's "now" is pinned, so re-running the script reproduces the same files byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = "vision-demo"
T0 = 1_785_000_000.0  # fixed start of the fake clock (POSIX seconds)
SECONDS_PER_STEP = 0.5
NOW = T0 + 1200 * SECONDS_PER_STEP + 5  # the app's frozen "now"

RUNS = (  # name, learning rate, steps, fate
    ("baseline", 1e-3, 1200, "finish"),
    ("lr-3e-3", 3e-3, 1200, "finish"),
    ("wide-net", 1e-3, 700, "crash"),
    ("warmup-long", 5e-4, 1000, "live"),
)


class FakeTime:
    """The clock trackio stamps rows with (``trackio.run._time_ns``) in screenshot mode: it follows
    ``now``, so re-running the script writes identical timestamps."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def time_ns(self) -> int:
        return round(self.now * 1_000_000) * 1000

    def __getattr__(self, name):
        return getattr(time, name)


def _curve(rng: random.Random, lr: float, step: int, total: int) -> dict:
    warm = min(1.0, (step + 1) / 100)
    sched = lr * warm * 0.5 * (1 + math.cos(math.pi * step / total))
    base = 2.4 * math.exp(-step * lr * 2.2) + 0.25
    loss = base * (1 + 0.06 * rng.gauss(0, 1))
    acc = max(0.0, min(1.0, 1 - base / 2.6 + 0.02 * rng.gauss(0, 1)))
    return {"train": {"loss": loss, "acc": acc}, "lr": sched, "grad_norm": abs(1.5 * base + 0.3 * rng.gauss(0, 1)),
            "tokens_seen": (step + 1) * 4096}


def log_run(trackio, clock: FakeTime, name: str, lr: float, steps: int, seed: int, stop_at: int | None = None):
    """Log one synthetic run through the public API; returns the Run (not finished)."""
    rng = random.Random(seed)
    run = trackio.init(project=PROJECT, name=name, config={"lr": lr, "batch_size": 64, "model": "resnet18",
                                                           "optimizer": {"name": "adamw", "wd": 0.05}},
                       auto_log_cpu=False, auto_log_gpu=False)
    for step in range(stop_at if stop_at is not None else steps):
        clock.now = T0 + seed * 3.0 + step * SECONDS_PER_STEP
        row = _curve(rng, lr, step, steps)
        if name == "lr-3e-3" and step == 640:
            row["train"]["loss"] = float("nan")
        if name == "lr-3e-3" and step == 900:
            row["train"]["loss"] *= 4
        if step % 50 == 49:
            row["val"] = {"loss": row["train"]["loss"] * 1.08, "acc": row["train"]["acc"] * 0.97}
        trackio.log(row)
        if step % 20 == 0:
            trackio.log_system({"cpu": {"utilization": 55 + 30 * math.sin(step / 60) + rng.random() * 5},
                                "memory": {"percent": 40 + step / steps * 20},
                                "gpu": {"0": {"utilization": 90 + rng.random() * 8, "temp": 60 + step / 40}}})
        if step == 100:
            run.alert("Warmup finished", f"lr reached {lr:g}", level="info")
        if name == "lr-3e-3" and step == 640:
            run.alert("Loss is NaN", "train/loss became NaN", level="error")
        if name == "lr-3e-3" and step == 900:
            run.alert("Loss spike", "train/loss jumped 4x in one step", level="warn")
        if name == "wide-net" and step == 650:
            run.alert("GPU memory high", "gpu/0 memory above 95%", level="warn")
    return run


_CRASH = """
import sys, os
sys.path.insert(0, {here!r})
import make, trackio, trackio.run
clock = make.FakeTime(make.T0)
trackio.run._time_ns = clock.time_ns
make.log_run(trackio, clock, {name!r}, {lr!r}, {steps!r}, {seed!r})
import time as _t; _t.sleep(1.0)
os._exit(1)
"""


def write_demo(directory: Path):
    """Write the demo project into ``directory`` (used as ``TRACKIO_DIR``); returns the live Run,
    which the caller must ``finish()`` when done (it keeps the project's one running run)."""
    os.environ["TRACKIO_DIR"] = str(directory)
    import trackio
    import trackio.run

    clock = FakeTime(T0)
    saved, saved_uuid4 = trackio.run._time_ns, uuid.uuid4
    trackio.run._time_ns = clock.time_ns
    ids = random.Random(7)
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)  # stable run ids
    live = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for seed, (name, lr, steps, fate) in enumerate(RUNS):
                if fate == "crash":
                    code = _CRASH.format(here=str(HERE), name=name, lr=lr, steps=steps, seed=seed)
                    subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                                   env={**os.environ, "TRACKIO_DIR": str(directory)}, timeout=120)
                    continue
                run = log_run(trackio, clock, name, lr, steps, seed, stop_at=600 if fate == "live" else None)
                if fate == "live":
                    live = run
                else:
                    trackio.finish()
    finally:
        trackio.run._time_ns, uuid.uuid4 = saved, saved_uuid4
    time.sleep(0.6)  # the live run's writer commits within 0.25 s
    return live


def demo_app(directory: Path, **kw):
    """The app on the demo project with the frozen clock (for screenshots and snapshot tests)."""
    from trackio.tui.app import TrackioApp

    return TrackioApp(PROJECT, directory=directory, clock=lambda: NOW, **kw)


async def wait_loaded(pilot, timeout: float = 90.0) -> None:
    """Wait until the workspace holds every run's exact history and has painted once."""
    from trackio.tui.screens.workspace import WorkspaceScreen

    app = pilot.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = app.screen
        if isinstance(s, WorkspaceScreen) and len(s.project.runs) == len(RUNS) and s.project.loading == 0 \
                and all(r.exact and r.ids.n for r in s.project.runs.values()) and s.project.alerts:
            break
        await pilot.pause(0.1)
    await pilot.pause(0.3)


VIEWS = (  # file name, terminal size, keys pressed after loading
    ("workspace.svg", (160, 48), ()),
    ("chart-fullscreen.svg", (160, 48), ("f", "s", "s", "s", "s", "i", "left", "left", "left", "left")),
    ("alerts.svg", (120, 36), ("a",)),
    ("help.svg", (120, 40), ("question_mark",)),
    ("workspace-80x24.svg", (80, 24), ()),
)


async def shoot(directory: Path, out: Path) -> list[Path]:
    written = []
    for name, size, keys in VIEWS:
        app = demo_app(directory)
        async with app.run_test(size=size) as pilot:
            await wait_loaded(pilot)
            for k in keys:
                await pilot.press(k)
            await pilot.pause(0.3)
            path = out / name
            path.write_text(app.export_screenshot(title=f"trackio tui · {name[:-4]}"), encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    with tempfile.TemporaryDirectory() as tmp:
        live = write_demo(Path(tmp) / "data")
        try:
            for p in asyncio.run(shoot(Path(tmp) / "data", out)):
                print(p)
        finally:
            with contextlib.redirect_stdout(io.StringIO()):
                live.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
