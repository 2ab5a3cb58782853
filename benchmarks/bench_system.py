"""System-metrics benchmarks (issue 7): what the automatic samplers cost a training loop.

One subprocess (fresh ``TRACKIO_DIR``) runs a training-like loop (about 0.5 ms of pure-Python work and
one ``log()`` of 4 floats per step) for a fixed wall time, alternately with the samplers off and on at
their default interval (10 s; GPU side on when a GPU is visible), in ABBA order. Reported:

- process CPU time per step (all threads: caller, writer, sampler) and steps/s, off and on (medians),
  the overheads on/off, each beside the spread of the "off" segments among themselves (the noise floor
  of this machine at this moment). CPU per step is the primary figure: on a shared machine other
  processes move wall-clock throughput far more than the sampler does;
- the sampler thread's own CPU time over the "on" segments as a share of one core;
- the cost of one CPU-side and one GPU-side sample in the sampling thread (CPU time), and what that is
  at the default interval;
- the same loop with both intervals at 0.1 s (100 × the default) to show a measurable upper bound.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

PY = sys.executable

LOOP = r"""
import contextlib, io, json, sys, time, warnings
warnings.simplefilter("ignore")
import trackio
from trackio.system import CpuProbe, _gpu_readings, _load_nvml, _load_psutil, gpu_devices

order, seconds, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])

def work():  # ~0.5 ms of interpreter work standing in for a training step's Python side
    s = 0
    for i in range(6000):
        s += i * i
    return s

def segment(on, k):
    with contextlib.redirect_stdout(io.StringIO()):
        run = trackio.init(project="bench-system", name=f"{'on' if on else 'off'}-{k}",
                           auto_log_cpu=on, auto_log_gpu=None if on else False,
                           cpu_log_interval=interval, gpu_log_interval=interval)
    log, steps = trackio.log, 0
    c0, t0 = time.process_time(), time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        x = work()
        log({"loss": 1.0 / (steps + 1), "acc": x * 1e-12, "lr": 3e-4, "epoch": steps * 1e-3})
        steps += 1
    sampler = run._samplers[0] if run._samplers else None
    with contextlib.redirect_stdout(io.StringIO()):
        trackio.finish()  # the writer's last commit belongs to the segment's cost
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"on": on, "rate": steps / wall, "cpu_per_step": cpu / steps, "wall": wall,
            "sampler_cpu": sampler.cpu_seconds if sampler else 0.0, "samples": sampler.samples if sampler else 0}

results = [segment(c == "B", k) for k, c in enumerate(order)]

def per_sample(fn, prime=None, n=50):
    if prime: prime()
    fn()
    t0 = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - t0) / n

cost = {}
ps = _load_psutil()
if ps is not None:
    probe = CpuProbe(ps)
    probe.prime()
    time.sleep(0.05)
    cost["cpu"] = per_sample(probe.sample)
devs, why = gpu_devices()
if devs:
    nv = _load_nvml()[0]
    cost["gpu"] = per_sample(lambda: _gpu_readings(nv, devs))
    cost["gpus"] = len(devs)
print(json.dumps({"segments": results, "cost": cost}))
"""


def _loop(order: str, seconds: float, interval: float) -> dict:
    env = dict(os.environ, TRACKIO_DIR=tempfile.mkdtemp(prefix="trackio-bench-sys-"))
    out = subprocess.run([PY, "-c", LOOP, order, str(seconds), str(interval)], capture_output=True, text=True,
                         env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _spread(values: list[float]) -> float:
    """(max - min) / median: how far repeated identical segments disagree."""
    return (max(values) - min(values)) / statistics.median(values) if len(values) > 1 else float("nan")


def _overhead(segs: list[dict]) -> dict:
    """Medians of the off/on segments: steps/s, process CPU µs per step, overheads, noise, sampler CPU."""
    def pick(on, key):
        return [s[key] for s in segs if s["on"] is on]
    off_rate, on_rate = pick(False, "rate"), pick(True, "rate")
    off_cpu, on_cpu = pick(False, "cpu_per_step"), pick(True, "cpu_per_step")
    on_wall = sum(pick(True, "wall"))
    return {
        "off_rate": statistics.median(off_rate), "on_rate": statistics.median(on_rate),
        "off_cpu": statistics.median(off_cpu), "on_cpu": statistics.median(on_cpu),
        "rate_overhead": 1.0 - statistics.median(on_rate) / statistics.median(off_rate),
        "cpu_overhead": statistics.median(on_cpu) / statistics.median(off_cpu) - 1.0,
        "rate_noise": _spread(off_rate), "cpu_noise": _spread(off_cpu),
        "sampler_share": sum(pick(True, "sampler_cpu")) / on_wall, "samples": sum(pick(True, "samples")),
    }


def run(quick: bool = False) -> list[tuple[str, str, str]]:
    seconds = 11.0 if quick else 25.0  # each segment spans at least one 10 s sample
    order = "ABBA" if quick else "ABBAABBA"
    res = _loop(order, seconds, 10.0)
    o = _overhead(res["segments"])
    n = len(order) // 2
    cost = res["cost"]
    gpu_note = f"{cost['gpus']} GPU(s)" if "gpus" in cost else "no GPU visible: CPU side only"
    rows = [
        (f"log() loop, samplers off ({n} × {seconds:.0f} s, ABBA)",
         f"{o['off_cpu'] * 1e6:.1f} µs CPU/step, {o['off_rate']:,.0f} steps/s", ""),
        (f"same loop, samplers on at 10 s ({gpu_note})",
         f"{o['on_cpu'] * 1e6:.1f} µs CPU/step, {o['on_rate']:,.0f} steps/s", ""),
        ("  overhead: process CPU per step, on/off - 1", f"{o['cpu_overhead'] * 100:+.2f} %",
         f"≤ 3 % (noise: 'off' spread {o['cpu_noise'] * 100:.1f} %)"),
        ("  overhead: steps/s, 1 - on/off", f"{o['rate_overhead'] * 100:+.2f} %",
         f"≤ 3 % (noise: 'off' spread {o['rate_noise'] * 100:.1f} %)"),
        (f"sampler thread CPU, 'on' segments ({o['samples']} samples)",
         f"{o['sampler_share'] * 100:.4f} % of a core", "≤ 1 % of one core"),
    ]
    if "cpu" in cost:
        rows.append(("one CPU-side sample (thread CPU time)", f"{cost['cpu'] * 1000:.2f} ms",
                     f"= {cost['cpu'] / 10.0 * 100:.4f} % of a core at 10 s"))
    if "gpu" in cost:
        rows.append((f"one GPU-side sample, {cost['gpus']} GPU(s) (thread CPU time)", f"{cost['gpu'] * 1000:.2f} ms",
                     f"= {cost['gpu'] / 10.0 * 100:.4f} % of a core at 10 s"))
    s = _overhead(_loop(order, 4.0 if quick else 8.0, 0.1)["segments"])
    rows.append(("stress: samplers at 0.1 s (100 × default), CPU/step overhead", f"{s['cpu_overhead'] * 100:+.2f} %",
                 f"upper bound (noise {s['cpu_noise'] * 100:.1f} %)"))
    rows.append(("stress: sampler thread CPU at 0.1 s", f"{s['sampler_share'] * 100:.2f} % of a core", ""))
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(" | ".join(row))
