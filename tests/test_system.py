"""System metrics (contract §1.9): the psutil sampler on this machine, the GPU path where no GPU is,
missing libraries, manual log_cpu/log_gpu/log_system."""

from __future__ import annotations

import json
import statistics
import time
import warnings

import pytest
from conftest import db_rows, run_python

from trackio.store.timefmt import ts_key

psutil = pytest.importorskip("psutil")

GIB = 1 << 30


def _system_rows(directory, project):
    return [(ts_key(ts), json.loads(m)) for ts, m in
            db_rows(directory, project, "SELECT timestamp, metrics FROM system_metrics ORDER BY id")]


def _has_gpu() -> bool:
    from trackio.system import gpu_devices

    return bool(gpu_devices()[0])


def test_cpu_sampler_logs_real_values_at_its_interval(trackio_dir, capsys):
    import trackio

    interval = 0.5
    run = trackio.init(project="sys", name="cpu", auto_log_cpu=True, cpu_log_interval=interval,
                       auto_log_gpu=False)
    started = time.time()
    assert len(run._samplers) == 1 and hasattr(run._samplers[0], "stop")
    deadline = time.monotonic() + 60
    step = 0
    while time.monotonic() < deadline:  # a training-like loop until ~8 samples are committed
        trackio.log({"loss": 1.0 / (step + 1)})
        step += 1
        time.sleep(0.01)
        if time.time() - started > 8 * interval + 0.3 and len(_system_rows(trackio_dir, "sys")) >= 8:
            break
    sampler = run._samplers[0]
    trackio.finish()
    assert not sampler._thread.is_alive()
    rows = _system_rows(trackio_dir, "sys")
    assert len(rows) >= 8

    # Values are real readings of this machine.
    total = psutil.virtual_memory().total / GIB
    ncpu = len(psutil.cpu_percent(percpu=True))
    for _, m in rows:
        assert 0.0 <= m["cpu/utilization"] <= 100.0
        assert [k for k in m if k.startswith("cpu/") and k != "cpu/utilization"] == \
            [f"cpu/{i}/utilization" for i in range(ncpu)]
        assert all(0.0 <= m[f"cpu/{i}/utilization"] <= 100.0 for i in range(ncpu))
        assert m["memory/total"] == pytest.approx(total, rel=1e-6)
        assert 0.0 < m["memory/used"] <= m["memory/total"]
        assert 0.0 < m["memory/available"] <= m["memory/total"]
        assert 0.0 < m["memory/percent"] <= 100.0
        assert 1e-4 < m["process/rss"] < m["memory/total"]  # this interpreter uses > 100 KiB
        for key in ("disk/read_mb_per_sec", "disk/write_mb_per_sec", "disk/read_iops", "disk/write_iops",
                    "network/sent_mb_per_sec", "network/recv_mb_per_sec"):
            if psutil.disk_io_counters() is None and key.startswith("disk/"):
                continue
            assert m[key] >= 0.0, key
        assert not any(k.startswith("gpu/") for k in m)
    # The process's RSS as psutil reports it now is close to the last sample (same process).
    assert rows[-1][1]["process/rss"] == pytest.approx(psutil.Process().memory_info().rss / GIB, rel=0.5)

    # Interval respected within 20 %: the median gap and the mean gap.
    times = [t for t, _ in rows]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert statistics.median(gaps) == pytest.approx(interval, rel=0.2)
    assert (times[-1] - times[0]) / (len(times) - 1) == pytest.approx(interval, rel=0.2)
    assert times[0] - started >= interval * 0.8  # first sample one interval after init

    # Stopped by finish(): nothing more arrives.
    n = len(rows)
    time.sleep(3 * interval)
    assert len(_system_rows(trackio_dir, "sys")) == n
    assert "psutil detected" not in capsys.readouterr().out  # explicit True: no detection note


def test_detection_note_once_per_project_and_false_turns_off(trackio_dir, capsys):
    import trackio
    from trackio import _state

    _state.sampler_notes.discard(("notes", "cpu"))
    note = "* psutil detected, enabling automatic CPU/system metrics logging"
    run = trackio.init(project="notes", name="a")
    out = capsys.readouterr().out.splitlines()
    assert note in out and out.index(note) < out.index("* Created new run: a")
    assert len(run._samplers) == 1
    trackio.init(project="notes", name="b")  # finishes a, starts b: note not repeated
    assert note not in capsys.readouterr().out
    trackio.finish()
    run = trackio.init(project="notes", name="c", auto_log_cpu=False, auto_log_gpu=False)
    assert run._samplers == []
    trackio.finish()


def test_bad_interval_warns_and_uses_default(trackio_dir):
    import trackio

    with pytest.warns(UserWarning, match=r"cpu_log_interval must be a positive number of seconds, got 0; using 10.0"):
        run = trackio.init(project="iv", auto_log_cpu=True, cpu_log_interval=0, auto_log_gpu=False)
    assert run._samplers[0]._cpu_interval == 10.0
    trackio.finish()


def test_log_cpu_and_log_system_write_rows(trackio_dir):
    import trackio

    trackio.init(project="manual", auto_log_cpu=False, auto_log_gpu=False)
    sample = trackio.log_cpu()
    assert 0.0 <= sample["cpu/utilization"] <= 100.0 and sample["memory/total"] > 0
    assert sample["disk/read_mb_per_sec"] >= 0 if psutil.disk_io_counters() else True
    trackio.log_system({"custom/fan": 1200, "nested": {"x": 1}})
    trackio.finish()
    rows = _system_rows(trackio_dir, "manual")
    assert [m for _, m in rows] == [json.loads(json.dumps(sample)), {"custom/fan": 1200, "nested/x": 1}]


@pytest.mark.skipif("_has_gpu()", reason="a GPU is present: see benchmarks/gpu_check.py")
def test_gpu_auto_is_silently_off_without_a_gpu(trackio_dir, capsys):
    import trackio

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = trackio.init(project="nogpu", auto_log_cpu=False)  # auto_log_gpu=None
        trackio.finish()
    assert [str(w.message) for w in caught] == []
    assert "NVIDIA GPU detected" not in capsys.readouterr().out
    assert run._samplers == []
    assert _system_rows(trackio_dir, "nogpu") == []


@pytest.mark.skipif("_has_gpu()", reason="a GPU is present: see benchmarks/gpu_check.py")
def test_gpu_explicit_true_warns_without_a_gpu(trackio_dir):
    import trackio

    with pytest.warns(UserWarning) as caught:
        run = trackio.init(project="nogpu2", auto_log_cpu=False, auto_log_gpu=True)
    msgs = [str(w.message) for w in caught]
    assert len(msgs) == 1 and msgs[0].startswith("auto_log_gpu=True but ") and "GPU metrics logging disabled" in msgs[0]
    assert caught[0].filename == __file__  # points at the init call
    assert run._samplers == []
    with pytest.warns(UserWarning, match=r"^trackio.log_gpu\(\): .*nothing logged"):
        assert trackio.log_gpu() == {}
    trackio.finish()
    assert _system_rows(trackio_dir, "nogpu2") == []


_HIDE = "import sys; sys.modules[{lib!r}] = None\n"  # makes `import <lib>` fail, as when it is not installed
_SCRIPT = """
import warnings
warnings.simplefilter("always")
import trackio
trackio.init(project="nolib", name="auto")
trackio.finish()
trackio.init(project="nolib", name="forced", {kw}=True)
print("LOGGED", trackio.{fn}())
trackio.finish()
"""


@pytest.mark.parametrize("lib,kw,fn,detected,missing", [
    ("psutil", "auto_log_cpu", "log_cpu", "psutil detected", "auto_log_cpu=True but psutil is not installed"),
    ("pynvml", "auto_log_gpu", "log_gpu", "NVIDIA GPU detected", "auto_log_gpu=True but nvidia-ml-py is not installed"),
])
def test_missing_library(trackio_dir, lib, kw, fn, detected, missing):
    proc = run_python(_HIDE.format(lib=lib) + _SCRIPT.format(kw=kw, fn=fn))
    assert proc.returncode == 0, proc.stderr
    assert detected not in proc.stdout
    assert "LOGGED {}" in proc.stdout
    warned = [line for line in proc.stderr.splitlines() if "UserWarning" in line]
    assert len(warned) == 2, proc.stderr  # one for the explicit True, one for the manual call; none for auto
    assert missing in warned[0]
    assert f"trackio.{fn}(): " in warned[1] and "not installed" in warned[1]


class _FakeNvml:
    """A stand-in for the pynvml module with two devices (only the calls trackio.system makes)."""

    NVML_TEMPERATURE_GPU = 0

    class _Util:
        gpu, memory = 87, 40

    class _Mem:
        used, total = 3 * GIB, 80 * GIB

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, i):
        return f"h{i}"

    def nvmlDeviceGetHandleByUUID(self, uuid):
        if uuid != "GPU-abc":
            raise RuntimeError("not found")
        return "h1"

    def nvmlDeviceGetUtilizationRates(self, h):
        if h == "h1":
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")  # e.g. a MIG instance
        return self._Util()

    def nvmlDeviceGetMemoryInfo(self, h):
        return self._Mem()

    def nvmlDeviceGetPowerUsage(self, h):
        return 251_500  # mW

    def nvmlDeviceGetTemperature(self, h, sensor):
        return 61


@pytest.mark.parametrize("spec,expected", [
    (None, [(0, "h0"), (1, "h1")]),
    ("1", [(0, "h1")]),
    ("1,0", [(0, "h1"), (1, "h0")]),
    ("GPU-abc", [(0, "h1")]),
    ("0,7,1", [(0, "h0")]),  # CUDA stops at the first device it cannot resolve
    ("", []),
    ("-1", []),
    ("MIG-3f2a", [(0, "h0"), (1, "h1")]),
])
def test_visible_devices_follow_cuda_visible_devices(monkeypatch, spec, expected):
    from trackio.system import _visible_devices

    if spec is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", spec)
    assert _visible_devices(_FakeNvml()) == expected


def test_gpu_readings_keys_and_units():
    from trackio.system import _gpu_readings

    out = _gpu_readings(_FakeNvml(), [(0, "h0"), (1, "h1")])
    assert out == {
        "gpu/0/utilization": 87.0, "gpu/0/memory_utilization": 40.0, "gpu/0/allocated_memory": 3.0,
        "gpu/0/total_memory": 80.0, "gpu/0/power": 251.5, "gpu/0/temp": 61.0,
        # unsupported utilisation is left out, the rest is kept
        "gpu/1/allocated_memory": 3.0, "gpu/1/total_memory": 80.0, "gpu/1/power": 251.5, "gpu/1/temp": 61.0,
    }


@pytest.mark.parametrize("deadline,now,expected", [
    (10.0, 10.01, 20.0),  # on time: the next point of the grid
    (10.0, 25.0, 30.0),  # slept through 20: skip it, no burst
    (10.0, 30.0, 40.0),  # woke exactly on a later grid point
])
def test_advance_keeps_the_grid(deadline, now, expected):
    from trackio.system import _advance

    assert _advance(deadline, 10.0, now) == expected
