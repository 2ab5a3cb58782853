"""Web export, sync and page speed (issue: export ≤ 3 s and ≤ 5 MB of data for 10 runs × 100,000 steps
× 10 metrics; an incremental sync after 1,000 new steps sends only new chunk files; first render ≤ 1 s).

The project is written with the real ``trackio`` API (in a subprocess, cached under ``.benchmarks/``),
synced to the local Hub server from ``tests/hub_server.py``, and the page is timed in headless
Chromium (``/usr/bin/chromium`` through Playwright). ``--quick`` uses 10,000 steps per run.
Run: ``python benchmarks/run.py web``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS, METRICS = 10, 10
TOKEN = "hf_dummy_bench_token_0123456789"

GEN = """
import math, random, sys, trackio
steps = int(sys.argv[1])
for r in range({runs}):
    trackio.init(project="bench", name=f"run-{{r}}", config={{"lr": 1e-3 * (r + 1), "seed": r}}, auto_log_cpu=False)
    rnd = random.Random(r)
    for s in range(steps):
        d = math.exp(-4 * s / steps)
        trackio.log({{"train/loss": 2.5 * d + 0.1 * rnd.random(), "train/lr": 3e-4 * (1 + math.cos(math.pi * s / steps)) / 2,
                     "train/acc": 1 - 0.9 * d + 0.01 * rnd.random(), "train/grad_norm": 1 + 5 * d * rnd.random(),
                     "eval/noise": rnd.gauss(0, 1), "tokens": s * 4096, "m6": rnd.random(), "m7": 100 * d,
                     "m8": rnd.randint(0, 1000), "epoch": s / 1000}})
    trackio.finish()
"""

ADD = """
import trackio
trackio.init(project="bench", name="run-0", resume="allow", auto_log_cpu=False)
for s in range({start}, {start} + 1000):
    trackio.log({{"train/loss": 0.1, "train/lr": 1e-5, "train/acc": 0.99, "train/grad_norm": 1.0, "eval/noise": 0.0,
                 "tokens": s * 4096, "m6": 0.5, "m7": 1.0, "m8": 3, "epoch": s / 1000}})
trackio.finish()
"""


def _data(steps: int) -> Path:
    """A TRACKIO_DIR holding the benchmark project (generated once, then reused)."""
    d = ROOT / ".benchmarks" / f"web-{RUNS}x{steps}"
    if not (d / "done").exists():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        env = dict(os.environ, TRACKIO_DIR=str(d))
        subprocess.run([sys.executable, "-c", GEN.format(runs=RUNS), str(steps)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        (d / "done").write_text("ok")
    return d


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _export(directory: Path, workers: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process and its workers, data bytes) of a cold export."""
    import resource

    from trackio.web.export import export_project

    def children():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    out = Path(tempfile.mkdtemp(prefix="bench-web-")) / "site"
    cpu0 = time.process_time() + children()
    t = time.perf_counter()
    result = export_project("bench", out, directory, workers=workers)
    took = time.perf_counter() - t
    cpu = time.process_time() + children() - cpu0
    shutil.rmtree(out.parent, ignore_errors=True)
    return took, cpu, result.data_bytes


def _render(site: Path) -> float:
    """Milliseconds from navigation start to the first drawn charts, all runs loaded (median of 3)."""
    from playwright.sync_api import sync_playwright

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    times = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.wait_for_function("() => window.trackioTiming && window.trackioTiming.firstChart", timeout=60_000)
                n = page.evaluate("window.trackioCharts().filter(c => c.stream === 'm' && c.runs.length === %d).length" % RUNS)
                assert n == METRICS, n
                times.append(page.evaluate("window.trackioTiming.firstChart"))
                page.close()
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return sorted(times)[1]


def _sync_measures(directory: Path, steps: int) -> list[tuple[str, str, str]]:
    sys.path.insert(0, str(ROOT / "tests"))
    from hub_server import HubServer

    tmp = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    hub = HubServer(tmp / "hub", token=TOKEN).start()
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env = dict(env, HF_ENDPOINT=hub.url, HF_TOKEN=TOKEN, HF_HUB_DISABLE_TELEMETRY="1",
               HF_HOME=str(tmp / "hf"), NO_PROXY="127.0.0.1,localhost", TRACKIO_DIR=str(directory),
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    sync = "import trackio; trackio.sync('bench', space_id='tester/bench')"
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", sync], check=True, env=env, stdout=subprocess.DEVNULL)
        first = time.perf_counter() - t
        before = set(hub.files("tester/bench"))
        subprocess.run([sys.executable, "-c", ADD.format(start=steps)], check=True, env=env, stdout=subprocess.DEVNULL)
        hub.clear_log()
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", sync], check=True, env=env, stdout=subprocess.DEVNULL)
        again = time.perf_counter() - t
        ops = [op for r in hub.requests("POST", r"/commit/") if r["status"] == 200 for op in r["ops"]]
        sent = [(path, size) for kind, path, size in ops if kind == "file"]
        # Files sent again: only the indexes and each stream's open (still filling) view chunk may be.
        resent = [p for p, _ in sent if p in before and not p.endswith(("run.js", "project.js", "-open.js"))]
        raw = [p for p, _ in sent if "/raw/" in p]
        view = [p for p, _ in sent if "/raw/" not in p and not p.endswith(("run.js", "project.js"))]
        verdict = "no full chunk re-sent" if not resent else f"RE-SENT {len(resent)} full chunks"
        return [
            ("first sync of the project (1 process)", f"{first:.1f} s", "-"),
            ("sync after 1,000 new steps", f"{again:.2f} s", "-"),
            ("  files sent: raw / view (open chunk incl.) / indexes",
             f"{len(raw)} / {len(view)} / {len(sent) - len(raw) - len(view)}", "new chunks only"),
            ("  bytes sent", f"{sum(s for _, s in sent) / 1e3:.0f} kB ({verdict})", "new chunks only"),
        ]
    finally:
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(quick: bool) -> list[tuple[str, str, str]]:
    steps = 10_000 if quick else 100_000
    directory = _data(steps)
    label = f"{RUNS} runs x {steps:,} steps x {METRICS} metrics"
    rows = []
    single, cpu, size = _export(directory, 1)
    from trackio.web.parallel import auto_workers

    workers = auto_workers()
    parallel, pcpu, _ = _export(directory, workers)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows.append((f"export, {label} (1 process)", f"{single:.2f} s ({cpu:.2f} s CPU)", "<= 3 s"))
    rows.append((f"export, {label} (default: {workers} processes)", f"{parallel:.2f} s ({pcpu:.2f} s CPU)", "<= 3 s"))
    rows.append(("  load average during the exports (cores: %d)" % (os.cpu_count() or 0), f"{load:.1f}", "-"))
    rows.append(("exported data size", f"{size / 1e6:.2f} MB", "<= 5 MB"))
    from trackio.web.export import export_project

    site = Path(tempfile.mkdtemp(prefix="bench-site-")) / "site"
    export_project("bench", site, directory)
    try:
        rows.append(("page first render in headless Chromium (median of 3)", f"{_render(site):.0f} ms", "<= 1000 ms"))
    finally:
        shutil.rmtree(site.parent, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        rows += _sync_measures(_copy(directory, work / "data"), steps)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(" | ".join(row))
