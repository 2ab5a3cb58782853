"""CLI speed: whole-process wall time and peak RSS of ``trackio …`` against the floor of a typer
CLI reading SQLite, ``python -c "import typer, sqlite3, json"``, measured side by side.

Targets (issue 3): ``list projects --json`` ≤ 1.3 × floor, also over 200 projects (each file is
checked through SQLite); ``get metric --json`` on a run of 100,000 steps × 10 metrics ≤ 4 × floor and
≤ 80 MiB peak RSS; ``get snapshot --around N --window 5 --json`` ≤ 1.5 × floor at 10k and at 1M steps.

Method: the projects are written by the real API into a temporary ``TRACKIO_DIR``. The package's
bytecode is compiled first (``compileall``), as ``pip install`` does, so an environment with
``PYTHONDONTWRITEBYTECODE=1`` does not charge source compilation to every start. Commands run in
interleaved rounds; each child's wall time is taken around ``Popen`` + ``os.wait4`` and its CPU time
and peak RSS from the ``rusage`` that ``wait4`` returns. Figures are medians over the rounds; the
ratio is median(command) / median(floor) from the same rounds.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TRACKIO = str(BIN / "trackio") if (BIN / "trackio").exists() else "trackio"

WRITE = r'''
import math, sys, trackio
project, steps, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
trackio.init(project=project, name="r", config={"lr": 1e-3}, auto_log_cpu=False, auto_log_gpu=False)
for i in range(steps):
    trackio.log({f"m{j}": math.sin(i * 0.001 + j) for j in range(width)})
trackio.finish()
'''


def _write(data: Path, project: str, steps: int, width: int) -> None:
    env = {**os.environ, "TRACKIO_DIR": str(data)}
    subprocess.run([sys.executable, "-c", WRITE, project, str(steps), str(width)], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _measure(cmds: dict[str, list[str] | tuple[list[str], dict]], rounds: int,
             env: dict) -> dict[str, dict[str, list[float]]]:
    """Run each command ``rounds`` times, interleaved; a command given as ``(argv, env)`` runs with that
    environment instead of ``env``."""
    out = {k: {"wall": [], "cpu": [], "rss": []} for k in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            argv, cenv = cmd if isinstance(cmd, tuple) else (cmd, env)
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cenv)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            if p.returncode != 0:
                raise RuntimeError(f"{name} exited {p.returncode}: {argv}")
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(ru.ru_utime + ru.ru_stime)
            out[name]["rss"].append(ru.ru_maxrss / 1024)  # KiB → MiB on Linux
    return out


def run(quick: bool) -> list[tuple[str, str, str]]:
    """Build the projects, time the commands, return (measure, figure, target) rows."""
    compileall.compile_dir(str(ROOT / "trackio"), quiet=1)
    big_steps = 20_000 if quick else 100_000
    long_steps = 100_000 if quick else 1_000_000
    rounds = 7 if quick else 21
    data = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        _write(data, "metric", big_steps, 10)
        _write(data, "snap10k", 10_000, 3)
        _write(data, "snaplong", long_steps, 3)
        many = data / "many"  # 200 small finished projects, for `list projects`
        many.mkdir()
        _write(many, "p000", 10, 3)
        for i in range(1, 200):
            shutil.copyfile(many / "p000.db", many / f"p{i:03d}.db")
        env = {**os.environ, "TRACKIO_DIR": str(data)}
        env.pop("NO_COLOR", None)
        snap = ["get", "snapshot", "--run", "r", "--window", "5", "--json"]
        cmds = {
            "floor": [sys.executable, "-c", "import typer, sqlite3, json"],
            "list": [TRACKIO, "list", "projects", "--json"],
            "list200": ([TRACKIO, "list", "projects", "--json"], {**env, "TRACKIO_DIR": str(many)}),
            "metric": [TRACKIO, "get", "metric", "--project", "metric", "--run", "r", "--metric", "m3", "--json"],
            "snap10k": [TRACKIO, *snap, "--project", "snap10k", "--around", "5000"],
            "snaplong": [TRACKIO, *snap, "--project", "snaplong", "--around", str(long_steps // 2)],
        }
        m = _measure(cmds, rounds, env)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    med = {k: {f: statistics.median(v[f]) for f in v} for k, v in m.items()}
    floor = med["floor"]

    def ratio(name: str) -> str:
        w, c = med[name]["wall"] / floor["wall"], med[name]["cpu"] / floor["cpu"]
        return f"{w:.2f}x wall ({med[name]['wall'] * 1e3:.0f} ms), {c:.2f}x CPU"

    k = big_steps // 1000
    n = f"{long_steps // 1_000_000}M" if long_steps >= 1_000_000 else f"{long_steps // 1000}k"
    return [
        ("floor: python -c 'import typer, sqlite3, json'",
         f"{floor['wall'] * 1e3:.0f} ms wall, {floor['cpu'] * 1e3:.0f} ms CPU", f"median of {rounds}"),
        ("trackio list projects --json", ratio("list"), "<= 1.3x floor"),
        ("trackio list projects --json (200 projects)", ratio("list200"), "<= 1.3x floor"),
        (f"trackio get metric --json ({k}k steps x 10 metrics)", ratio("metric"), "<= 4x floor"),
        (f"trackio get metric --json ({k}k x 10) peak RSS", f"{max(m['metric']['rss']):.1f} MiB "
         f"(floor {max(m['floor']['rss']):.1f} MiB)", "<= 80 MiB"),
        ("trackio get snapshot --around --window 5 --json (10k steps)", ratio("snap10k"), "<= 1.5x floor"),
        (f"trackio get snapshot --around --window 5 --json ({n} steps)", ratio("snaplong"), "<= 1.5x floor"),
    ]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(" | ".join(row))
