"""System metrics: CPU/memory/disk/network via psutil and NVIDIA GPUs via nvidia-ml-py (contract §1.9).

Both libraries are optional extras (``trackio[cpu]``, ``trackio[gpu]``) imported only here, on first
use. One daemon thread per run (:class:`SystemSampler`) samples the CPU side and the GPU side, each at
its own interval, and writes each sample as one ``system_metrics`` row through ``Run._log_system``
(the run's batch writer; the row's timestamp is the time of that call).

Keys (upstream trackio's names; sizes in GiB = 2**30 bytes, rates in MiB/s = 2**20 bytes/s):

- CPU side: ``cpu/utilization`` and ``cpu/<i>/utilization`` (% busy since the previous sample, from
  ``psutil.cpu_percent``), ``memory/used``, ``memory/total``, ``memory/available`` (GiB),
  ``memory/percent`` (%), ``process/rss`` (this process's resident set size, GiB), and, from the second
  sample on, ``disk/read_mb_per_sec``, ``disk/write_mb_per_sec``, ``disk/read_iops``,
  ``disk/write_iops``, ``network/sent_mb_per_sec``, ``network/recv_mb_per_sec`` (deltas of psutil's
  system-wide counters divided by the seconds between the two samples).
- GPU side, per CUDA device index ``<i>`` (``CUDA_VISIBLE_DEVICES`` order): ``gpu/<i>/utilization``
  and ``gpu/<i>/memory_utilization`` (%, NVML utilisation rates), ``gpu/<i>/allocated_memory`` and
  ``gpu/<i>/total_memory`` (GiB), ``gpu/<i>/power`` (W), ``gpu/<i>/temp`` (°C). A reading the device
  does not support (e.g. utilisation on a MIG instance) is left out.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import warnings

GIB = float(1 << 30)
MIB = float(1 << 20)
MANUAL_WINDOW = 0.1  # seconds a manual sample_cpu() measures CPU utilisation and I/O rates over
STOP_TIMEOUT = 2.0  # seconds stop() waits for the sampling thread
DEFAULT_INTERVAL = 10.0  # seconds

_NO_PSUTIL = "psutil is not installed (pip install 'trackio[cpu]' or pip install psutil)"
_NO_NVML = "nvidia-ml-py is not installed (pip install 'trackio[gpu]' or pip install nvidia-ml-py)"
_NO_GPU = "no NVIDIA GPU detected"


# -- psutil ------------------------------------------------------------------------------------------
_psutil = None  # None: not tried yet; False: not importable; else the module


def _load_psutil():
    global _psutil
    if _psutil is None:
        try:
            import psutil

            _psutil = psutil
        except Exception:  # ImportError, or a broken install
            _psutil = False
    return _psutil or None


class CpuProbe:
    """Samples the CPU side (keys in the module docstring) with psutil.

    ``psutil.cpu_percent(None)`` keeps its previous reading per thread, so :meth:`prime` and
    :meth:`sample` must be called from the same thread; the first :meth:`sample` after :meth:`prime`
    measures the time between the two calls.
    """

    def __init__(self, psutil):
        self._ps = psutil
        self._proc = psutil.Process()
        self._last: tuple[float, object, object] | None = None  # (monotonic s, disk counters, net counters)

    def _counters(self):
        ps = self._ps
        try:
            disk = ps.disk_io_counters()
        except Exception:
            disk = None
        try:
            net = ps.net_io_counters()
        except Exception:
            net = None
        return time.monotonic(), disk, net

    def prime(self) -> None:
        """Start the measurement window of the next :meth:`sample` (utilisation and I/O rates)."""
        ps = self._ps
        try:
            ps.cpu_percent(None)
            ps.cpu_percent(None, percpu=True)
        except Exception:
            pass
        self._last = self._counters()

    def sample(self) -> dict:
        """One sample: utilisation and rates since the previous call (or :meth:`prime`); never raises."""
        ps, out = self._ps, {}
        try:
            out["cpu/utilization"] = float(ps.cpu_percent(None))
            for i, pct in enumerate(ps.cpu_percent(None, percpu=True)):
                out[f"cpu/{i}/utilization"] = float(pct)
        except Exception:
            pass
        try:
            mem = ps.virtual_memory()
            out["memory/used"] = mem.used / GIB
            out["memory/total"] = mem.total / GIB
            out["memory/available"] = mem.available / GIB
            out["memory/percent"] = float(mem.percent)
        except Exception:
            pass
        try:
            out["process/rss"] = self._proc.memory_info().rss / GIB
        except Exception:
            pass
        now = self._counters()
        last, self._last = self._last, now
        if last is not None and now[0] > last[0]:
            dt = now[0] - last[0]
            _rates(out, last[1], now[1], dt, (("disk/read_mb_per_sec", "read_bytes", MIB),
                                              ("disk/write_mb_per_sec", "write_bytes", MIB),
                                              ("disk/read_iops", "read_count", 1.0),
                                              ("disk/write_iops", "write_count", 1.0)))
            _rates(out, last[2], now[2], dt, (("network/sent_mb_per_sec", "bytes_sent", MIB),
                                              ("network/recv_mb_per_sec", "bytes_recv", MIB)))
        return out


def _rates(out: dict, before, after, dt: float, fields) -> None:
    if before is None or after is None:
        return
    for key, attr, unit in fields:
        delta = getattr(after, attr, 0) - getattr(before, attr, 0)
        if delta >= 0:  # a counter that went back (device removed) gives no rate this time
            out[key] = delta / dt / unit


# -- nvidia-ml-py --------------------------------------------------------------------------------------
_nvml_lock = threading.Lock()
_nvml_state: tuple[object, str | None] | None = None  # (pynvml or None, why not) once tried


_DRIVER_NODES = ("/dev/nvidiactl", "/proc/driver/nvidia/version", "/dev/dxg")  # Linux driver, WSL2


def _nvidia_driver_visible() -> bool:
    """False only where NVML certainly finds no GPU: a Linux host without the NVIDIA driver's device
    nodes. Auto-detection then skips importing pynvml (about 10 ms of every ``init`` on a CPU box)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.path.exists(p) for p in _DRIVER_NODES)


def _load_nvml():
    """``(pynvml, None)`` with NVML initialised (once per process), or ``(None, reason)``."""
    global _nvml_state
    with _nvml_lock:
        if _nvml_state is None:
            try:
                import pynvml
            except Exception:
                _nvml_state = (None, _NO_NVML)
            else:
                try:
                    pynvml.nvmlInit()
                    _nvml_state = (pynvml, None)
                except Exception:  # no driver / library: as good as no GPU
                    _nvml_state = (None, _NO_GPU)
        return _nvml_state


def _visible_devices(nv) -> list[tuple[int, object]]:
    """``(CUDA device index, NVML handle)`` for each GPU this process may use.

    Follows ``CUDA_VISIBLE_DEVICES`` (integer indices or ``GPU-<uuid>``; CUDA stops at the first entry
    it cannot resolve, and so do we); unset or MIG identifiers → every device NVML sees.
    """
    try:
        count = nv.nvmlDeviceGetCount()
    except Exception:
        return []
    spec = os.environ.get("CUDA_VISIBLE_DEVICES")
    if spec is None or any(p.strip().upper().startswith("MIG") for p in spec.split(",")):
        out = []
        for i in range(count):
            try:
                out.append((i, nv.nvmlDeviceGetHandleByIndex(i)))
            except Exception:
                pass
        return out
    out = []
    for part in spec.split(","):
        part = part.strip()
        try:
            if part.isdigit() and int(part) < count:
                handle = nv.nvmlDeviceGetHandleByIndex(int(part))
            elif part.upper().startswith("GPU-"):
                handle = nv.nvmlDeviceGetHandleByUUID(part)
            else:
                break
        except Exception:
            break
        out.append((len(out), handle))
    return out


def _gpu_readings(nv, devices) -> dict:
    out = {}
    for i, handle in devices:
        p = f"gpu/{i}/"
        try:
            util = nv.nvmlDeviceGetUtilizationRates(handle)
            out[p + "utilization"] = float(util.gpu)
            out[p + "memory_utilization"] = float(util.memory)
        except Exception:
            pass
        try:
            mem = nv.nvmlDeviceGetMemoryInfo(handle)
            out[p + "allocated_memory"] = mem.used / GIB
            out[p + "total_memory"] = mem.total / GIB
        except Exception:
            pass
        try:
            out[p + "power"] = nv.nvmlDeviceGetPowerUsage(handle) / 1000.0  # mW → W
        except Exception:
            pass
        try:
            out[p + "temp"] = float(nv.nvmlDeviceGetTemperature(handle, nv.NVML_TEMPERATURE_GPU))
        except Exception:
            pass
    return out


def gpu_devices() -> tuple[list[tuple[int, object]], str | None]:
    """The visible NVIDIA GPUs as ``(CUDA index, NVML handle)`` pairs, and why there are none
    (``None`` when there are some)."""
    nv, why = _load_nvml()
    if nv is None:
        return [], why
    devices = _visible_devices(nv)
    return devices, (None if devices else _NO_GPU)


# -- manual sampling (log_cpu / log_gpu) ----------------------------------------------------------------
def sample_cpu() -> dict:
    """One CPU/memory/disk/network sample (keys in the module docstring), measured over
    :data:`MANUAL_WINDOW` seconds (the call blocks that long).

    Returns ``{}`` and warns (``UserWarning``) when psutil is not installed.
    """
    ps = _load_psutil()
    if ps is None:
        warnings.warn(f"trackio.log_cpu(): {_NO_PSUTIL}; nothing logged.", UserWarning, stacklevel=3)
        return {}
    probe = CpuProbe(ps)
    probe.prime()
    time.sleep(MANUAL_WINDOW)
    return probe.sample()


def sample_gpu(device: int | None = None) -> dict:
    """One sample of every visible NVIDIA GPU, or only of CUDA device index ``device``.

    Returns ``{}`` and warns (``UserWarning``) when nvidia-ml-py is not installed, no GPU is visible,
    or ``device`` is not a visible device index.
    """
    devices, why = gpu_devices()
    if device is not None:
        devices = [d for d in devices if d[0] == device]
        if not devices and why is None:
            why = f"no visible GPU with index {device!r}"
    if not devices:
        warnings.warn(f"trackio.log_gpu(): {why}; nothing logged.", UserWarning, stacklevel=3)
        return {}
    nv, _ = _load_nvml()
    return _gpu_readings(nv, devices)


# -- automatic sampling ------------------------------------------------------------------------------
class SystemSampler:
    """The run's background sampler: one daemon thread for the CPU and the GPU side.

    Each side is sampled every ``*_interval`` seconds (first sample one interval after :meth:`start`;
    deadlines advance by the interval so there is no drift; a late wake-up skips missed deadlines rather
    than bursting). Samples due at the same wake-up go into one row. Errors in a sample are swallowed: the
    tracker never disturbs training.

    Attributes: ``samples`` (rows written), ``cpu_seconds`` (CPU time the thread has used, seconds).
    """

    def __init__(self, run, cpu_interval: float | None, gpu_interval: float | None, gpu_devs=None):
        self._run = run
        self._cpu_interval = cpu_interval
        self._gpu_interval = gpu_interval
        self._gpu_devs = gpu_devs or []
        self._stop = threading.Event()
        self.samples = 0
        self.cpu_seconds = 0.0
        self._thread = threading.Thread(target=self._loop, name=f"trackio-sampler-{run.id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop sampling; waits up to ``timeout`` seconds for the thread. Idempotent."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        cpu = None
        if self._cpu_interval is not None:
            ps = _load_psutil()
            if ps is not None:
                cpu = CpuProbe(ps)
                cpu.prime()
        nv = _load_nvml()[0] if self._gpu_interval is not None and self._gpu_devs else None
        start = time.monotonic()
        next_cpu = start + self._cpu_interval if cpu is not None else math.inf
        next_gpu = start + self._gpu_interval if nv is not None else math.inf
        stop, run = self._stop, self._run
        while not stop.is_set():
            due = min(next_cpu, next_gpu)
            if due == math.inf or stop.wait(max(0.0, due - time.monotonic())):
                break
            now = time.monotonic()
            row: dict = {}
            try:
                if now >= next_cpu:
                    row.update(cpu.sample())
                    next_cpu = _advance(next_cpu, self._cpu_interval, now)
                if now >= next_gpu:
                    row.update(_gpu_readings(nv, self._gpu_devs))
                    next_gpu = _advance(next_gpu, self._gpu_interval, now)
                if row and not stop.is_set() and not run._finished:
                    run._log_system(row, 2)
                    self.samples += 1
            except Exception:
                pass
            self.cpu_seconds = time.thread_time()
        self.cpu_seconds = time.thread_time()


def _advance(deadline: float, interval: float, now: float) -> float:
    deadline += interval
    if deadline <= now:  # we slept through one or more deadlines: resume the grid after now
        deadline += math.ceil((now - deadline) / interval) * interval
        if deadline <= now:
            deadline += interval
    return deadline


def _interval(value, kw: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        warnings.warn(f"trackio.init(): {kw} must be a positive number of seconds, got {value!r}; "
                      f"using {DEFAULT_INTERVAL}.", UserWarning, stacklevel=4)
        return DEFAULT_INTERVAL
    return float(value)


def start_samplers(run, auto_log_cpu, cpu_log_interval, auto_log_gpu, gpu_log_interval) -> list[str]:
    """Start the run's automatic sampler per contract §1.9 and return the console notes to print.

    ``auto_log_*``: ``None`` → on when the library imports (and, for GPUs, at least one NVIDIA GPU is
    visible), silently off otherwise; ``True`` → on, or one ``UserWarning`` saying why not; ``False`` →
    off. Notes (``* psutil detected, …`` / ``* NVIDIA GPU detected, …``) are returned only for sides
    turned on by detection, once per project per process. The sampler, if any, is appended to
    ``run._samplers`` (``Run.finish`` stops it). Never raises.
    """
    from . import _state

    notes: list[str] = []
    cpu_iv = gpu_iv = None
    devs: list = []
    if auto_log_cpu is None or auto_log_cpu:
        if _load_psutil() is not None:
            cpu_iv = _interval(cpu_log_interval, "cpu_log_interval")
            if auto_log_cpu is None and (run.project, "cpu") not in _state.sampler_notes:
                _state.sampler_notes.add((run.project, "cpu"))
                notes.append("* psutil detected, enabling automatic CPU/system metrics logging")
        elif auto_log_cpu:
            warnings.warn(f"auto_log_cpu=True but {_NO_PSUTIL}. CPU and system metrics logging disabled.",
                          UserWarning, stacklevel=3)
    if auto_log_gpu or (auto_log_gpu is None and _nvidia_driver_visible()):
        try:
            devs, why = gpu_devices()
        except Exception as e:  # a misbehaving driver must not stop init
            devs, why = [], f"NVML failed ({e})"
        if devs:
            gpu_iv = _interval(gpu_log_interval, "gpu_log_interval")
            if auto_log_gpu is None and (run.project, "gpu") not in _state.sampler_notes:
                _state.sampler_notes.add((run.project, "gpu"))
                notes.append("* NVIDIA GPU detected, enabling automatic GPU metrics logging")
        elif auto_log_gpu:
            warnings.warn(f"auto_log_gpu=True but {why}. GPU metrics logging disabled.", UserWarning, stacklevel=3)
    if cpu_iv is not None or gpu_iv is not None:
        sampler = SystemSampler(run, cpu_iv, gpu_iv, devs)
        run._samplers.append(sampler)
        sampler.start()
    return notes
