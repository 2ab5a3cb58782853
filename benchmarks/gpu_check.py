"""Real-GPU check of the GPU sampler (issue 7), for a machine with an NVIDIA GPU. Not a pytest file.

Run from the repository root (needs nvidia-ml-py importable; psutil and torch are optional):

    python benchmarks/gpu_check.py            # about 15 s; exit 0 = every check passed

It imports ``trackio`` from this checkout (no install needed: ``import trackio`` uses only the standard
library), logs into a temporary ``TRACKIO_DIR`` and checks, printing one PASS/FAIL line each:

1. detection: ``init(auto_log_gpu=None)`` turns GPU sampling on and prints the detection note;
2. automatic rows: every visible device has ``gpu/<i>/{utilization, memory_utilization,
   allocated_memory, total_memory, power, temp}`` in range (a reading NVML does not support on this
   device, e.g. utilisation on a MIG slice, is reported as missing, not failed), total memory matches
   NVML (and ``nvidia-smi`` when present), and samples arrive every 0.5 s within 20 %;
3. load (only when torch with CUDA imports): a matmul loop raises ``gpu/0/utilization`` above 0 and
   ``gpu/0/allocated_memory`` by the tensor's size;
4. ``log_gpu(device=0)`` returns only ``gpu/0/…`` keys; ``log_gpu(device=<count>)`` warns and returns {};
5. ``CUDA_VISIBLE_DEVICES`` (subprocesses): ``""`` → silently off; the last device index → one device,
   reported as ``gpu/0``;
6. cost: CPU time of one GPU-side sample in the sampling thread, and that as a share of a core at the
   default 10 s interval (target ≤ 1 %).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GIB = float(1 << 30)
KEYS = ("utilization", "memory_utilization", "allocated_memory", "total_memory", "power", "temp")
failures: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {name}{'  — ' + detail if detail else ''}", flush=True)
    if not ok:
        failures.append(name)


def rows_of(directory: str, project: str) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(os.path.join(directory, f"{project}.db"))
    try:
        cur = conn.execute("SELECT timestamp, metrics FROM system_metrics ORDER BY id")
        return [(ts, json.loads(m)) for ts, m in cur]
    finally:
        conn.close()


def main() -> int:
    try:
        import pynvml  # noqa: F401
    except ImportError:
        print("nvidia-ml-py is not importable here: pip install nvidia-ml-py (or put pynvml.py on PYTHONPATH)")
        return 2
    tmp = tempfile.mkdtemp(prefix="trackio-gpu-check-")
    os.environ["TRACKIO_DIR"] = tmp
    os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    import trackio
    from trackio.store.timefmt import ts_key
    from trackio.system import _gpu_readings, _load_nvml, gpu_devices

    devs, why = gpu_devices()
    nv = _load_nvml()[0]
    check("NVML sees at least one GPU", bool(devs), why or "")
    if not devs:
        return 1
    for i, h in devs:
        try:
            name = nv.nvmlDeviceGetName(h)
        except Exception as e:
            name = f"(name unavailable: {e})"
        print(f"      device {i}: {name}")

    torch = None
    try:
        import torch as _torch

        if _torch.cuda.is_available():
            torch = _torch
    except Exception:
        pass

    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trackio.init(project="gpu-check", name="auto", auto_log_cpu=False, gpu_log_interval=0.5)
    check("detection note printed", "* NVIDIA GPU detected, enabling automatic GPU metrics logging" in out.getvalue())
    check("no warning at init", not caught, "; ".join(str(w.message) for w in caught))
    size_gib = 0.0
    t_end = time.monotonic() + 5.0
    if torch is not None:
        a = torch.randn(8192, 8192, device="cuda")  # 256 MiB
        size_gib = a.numel() * a.element_size() / GIB
        while time.monotonic() < t_end:
            a = (a @ a).clamp_(-1, 1)
            torch.cuda.synchronize()
    else:
        time.sleep(max(0.0, t_end - time.monotonic()))
    with contextlib.redirect_stdout(io.StringIO()):
        trackio.finish()
    rows = rows_of(tmp, "gpu-check")
    check("automatic rows written", len(rows) >= 7, f"{len(rows)} rows in 5 s at 0.5 s")
    missing = set()
    for _, m in rows:
        for i, _h in devs:
            for k in KEYS:
                if f"gpu/{i}/{k}" not in m:
                    missing.add(f"gpu/{i}/{k}")
    if missing:
        print(f"      not reported by NVML on this device: {sorted(missing)}")
    check("core keys present (allocated_memory, total_memory)",
          not any(k.endswith(("allocated_memory", "total_memory")) for k in missing))
    bad = []
    for _, m in rows:
        for k, v in m.items():
            rng = {"utilization": (0, 100), "memory_utilization": (0, 100), "temp": (0, 120), "power": (0, 2000),
                   "allocated_memory": (0, 1e4), "total_memory": (1e-3, 1e4)}[k.rsplit("/", 1)[1]]
            if not (rng[0] <= v <= rng[1]):
                bad.append((k, v))
        for i, _h in devs:
            if m.get(f"gpu/{i}/allocated_memory", 0) > m.get(f"gpu/{i}/total_memory", 1e9):
                bad.append((f"gpu/{i}/allocated_memory > total", m[f"gpu/{i}/allocated_memory"]))
    check("values in range", not bad, str(bad[:5]))
    nvml_total = nv.nvmlDeviceGetMemoryInfo(devs[0][1]).total / GIB
    check("gpu/0/total_memory matches NVML", abs(rows[-1][1].get("gpu/0/total_memory", -1) - nvml_total) < 1e-6,
          f"{nvml_total:.2f} GiB")
    if shutil.which("nvidia-smi"):
        try:
            smi = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits", "-i", "0"],
                                 capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
            check("gpu/0/total_memory matches nvidia-smi (MiB)",
                  abs(float(smi) - rows[-1][1]["gpu/0/total_memory"] * 1024) <= 1.0, f"nvidia-smi {smi} MiB")
        except Exception as e:
            print(f"      nvidia-smi not usable: {e}")
    times = [ts_key(ts) for ts, _ in rows]
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    median = gaps[len(gaps) // 2] if gaps else 0.0
    check("interval 0.5 s within 20 %", abs(median - 0.5) <= 0.1, f"median gap {median:.3f} s")
    if torch is not None:
        util = max(m.get("gpu/0/utilization", 0) for _, m in rows)
        mem = [m["gpu/0/allocated_memory"] for _, m in rows if "gpu/0/allocated_memory" in m]
        check("load shows in utilisation", util > 0 or "gpu/0/utilization" in missing, f"max {util}")
        check("load shows in allocated memory", max(mem) - min(mem) >= size_gib * 0.9 or mem[0] >= size_gib,
              f"{min(mem):.3f} → {max(mem):.3f} GiB (tensor {size_gib:.3f} GiB)")
    else:
        print("      torch with CUDA not importable: load check skipped (idle readings only)")

    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project="gpu-check", name="manual", auto_log_cpu=False, auto_log_gpu=False)
    one = trackio.log_gpu(device=0)
    check("log_gpu(device=0) returns gpu/0 keys only", bool(one) and all(k.startswith("gpu/0/") for k in one),
          str(sorted(one)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        none = trackio.log_gpu(device=len(devs))
    check("log_gpu(device=<count>) warns and returns {}", none == {} and len(caught) == 1,
          "; ".join(str(w.message) for w in caught))
    with contextlib.redirect_stdout(io.StringIO()):
        trackio.finish()

    probe = ("import json, warnings, trackio; warnings.simplefilter('always'); "
             "r = trackio.init(project='gpu-vis', auto_log_cpu=False); trackio.finish(); "
             "from trackio.system import sample_gpu; "
             "print(json.dumps([len(r._samplers), sample_gpu() if r._samplers else {}]))")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                       env=dict(env, CUDA_VISIBLE_DEVICES=""))
    check("CUDA_VISIBLE_DEVICES='' → off, silently",
          p.returncode == 0 and json.loads(p.stdout.splitlines()[-1]) == [0, {}] and "Warning" not in p.stderr,
          p.stderr.strip()[-300:])
    last = devs[-1][0]
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                       env=dict(env, CUDA_VISIBLE_DEVICES=str(last)))
    got = json.loads(p.stdout.splitlines()[-1])[1] if p.returncode == 0 else {}
    want_total = nv.nvmlDeviceGetMemoryInfo(devs[-1][1]).total / GIB
    check(f"CUDA_VISIBLE_DEVICES={last} → that device as gpu/0",
          bool(got) and {k.split("/")[1] for k in got} == {"0"}
          and abs(got.get("gpu/0/total_memory", -1) - want_total) < 1e-6,
          p.stderr.strip()[-300:])

    _gpu_readings(nv, devs)
    t0, n = time.thread_time(), 50
    for _ in range(n):
        _gpu_readings(nv, devs)
    cost = (time.thread_time() - t0) / n
    check("one GPU-side sample ≤ 1 % of a core at 10 s", cost / 10.0 <= 0.01,
          f"{cost * 1000:.2f} ms per sample of {len(devs)} GPU(s) = {cost / 10.0 * 100:.4f} % of a core")

    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'ALL PASSED' if not failures else 'FAILED: ' + ', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
