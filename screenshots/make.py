"""Regenerate the README screenshots of ``trackio tui``: ``python screenshots/make.py [OUT_DIR]``.

The data is ``trackio demo``'s: its three real training runs (a numpy MLP learning scikit-learn's
digits; ``baseline`` with plateau alerts, ``small-lr``, and ``lr-range-test``, which diverges and ends
in NaN with WARN and ERROR alerts), trained by :func:`trackio.demo.train` in a subprocess. The script
then drives the real app headless and saves SVGs of the main views.

Re-running it reproduces the files byte for byte:

- time is a fake clock: ``trackio.run._time_ns`` advances 50 ms per call (the demo's live pace), and
  the app's "now" is pinned 5 s after the last row;
- run and alert ids come from a seeded generator (``uuid.uuid4``);
- no system-metric sampler runs (psutil and pynvml are hidden): its thread would read the clock out
  of order;
- the arithmetic is pinned: float32 results depend on the CPU kernels numpy and OpenBLAS pick, so
  the training runs with OpenBLAS's portable ``Prescott`` kernels on one thread and numpy's AVX-512
  paths off (identical on any x86-64-v3 machine, i.e. Haswell/Zen or newer; another architecture or
  numpy release may draw a few dots differently).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = "demo"
T0 = 1_785_000_000.0  # start of the fake clock (POSIX seconds)
TICK = 0.05  # fake seconds per clock read: trackio demo --live trains at 0.05 s per step

_TRAIN = """
import random, sys, uuid
sys.modules["psutil"] = None  # no system samplers (see the module docstring)
sys.modules["pynvml"] = None
import trackio.demo as demo, trackio.run
now = [{t0!r}]
def clock_ns():
    now[0] += {tick!r}
    return round(now[0] * 1_000_000) * 1000
trackio.run._time_ns = clock_ns
ids = random.Random(7)
uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)
data = demo.load_data()
for kind in demo.RUNS:
    demo.train({project!r}, kind, kind, data=data)
"""


def _pinned_math_env() -> dict[str, str]:
    """Environment that makes numpy/OpenBLAS float32 results the same on every x86-64-v3 machine."""
    env = {"OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:  # numpy's runtime-dispatched SIMD targets; turn off those above AVX2 (names vary by release)
        from numpy._core._multiarray_umath import __cpu_dispatch__ as targets
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_dispatch__ as targets
        except ImportError:
            targets = []
    off = [t for t in targets if t.startswith("AVX512") or t == "X86_V4"]
    if off:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(off)
    return env


def write_demo(directory: Path) -> None:
    """Train the demo runs into ``directory`` (a ``TRACKIO_DIR``) in a subprocess (see module docstring).

    Raises:
        subprocess.CalledProcessError: the training failed (its output is in the exception).
    """
    code = _TRAIN.format(t0=T0, tick=TICK, project=PROJECT)
    env = {**os.environ, "TRACKIO_DIR": str(directory), **_pinned_math_env()}
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env, timeout=300)


def frozen_now(directory: Path) -> float:
    """The app's pinned "now": 5 s after the project's last metric row (POSIX seconds)."""
    from trackio.store.timefmt import ts_key

    conn = sqlite3.connect(directory / f"{PROJECT}.db")
    try:
        (last,) = conn.execute("SELECT MAX(timestamp) FROM metrics").fetchone()
    finally:
        conn.close()
    return ts_key(last) + 5.0


def demo_app(directory: Path, **kw):
    """The app on the demo project with the frozen clock (for screenshots and snapshot tests)."""
    from trackio.tui.app import TrackioApp

    now = frozen_now(directory)
    return TrackioApp(PROJECT, directory=directory, clock=lambda: now, **kw)


async def wait_loaded(pilot, timeout: float = 90.0) -> None:
    """Wait until the workspace holds every run's exact history and has painted once."""
    from trackio.tui.screens.workspace import WorkspaceScreen

    app = pilot.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = app.screen
        if isinstance(s, WorkspaceScreen) and len(s.project.runs) == 3 and s.project.loading == 0 \
                and all(r.exact and r.ids.n for r in s.project.runs.values()) and s.project.alerts:
            break
        await pilot.pause(0.1)
    await pilot.pause(0.3)


VIEWS = (  # file name, terminal size, keys pressed after loading
    ("workspace.svg", (160, 48), ()),
    # train/loss full screen, log scale, smoothed, inspecting: the diverging run stands out.
    ("chart-fullscreen.svg", (160, 48), ("j", "f", "y", "s", "s", "s", "i", "left", "left", "left", "left")),
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
        data = Path(tmp) / "data"
        write_demo(data)
        for p in asyncio.run(shoot(data, out)):
            print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
