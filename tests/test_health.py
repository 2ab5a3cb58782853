"""Run health end to end with real processes (contract §1.7, §2.3, §2.5): heartbeat, SIGKILL → crashed
(never finished), crashed stored by the next init, resume → running, normal exit without finish() →
finished via atexit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import db_rows, run_python

from trackio.store.reader import connect_reader
from trackio.store.runs import STALE_AFTER, compute_status, project_runs
from trackio.store.timefmt import format_ts, ts_key

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

VICTIM = """
import sys, time, trackio
trackio.init(project="health", name="victim", auto_log_cpu=True, cpu_log_interval=0.2)
for i in range(20):
    trackio.log({"loss": 1.0 / (i + 1)})
time.sleep(1.0)  # > the 0.25 s durability bound
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def _runs(directory, project="health"):
    conn = connect_reader(directory / f"{project}.db")
    try:
        return {r.name: r for r in project_runs(conn)}
    finally:
        conn.close()


def _start(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))


def _wait_ready(proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == "ready":
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"child never got ready: {proc.stderr.read()}")


def test_sigkilled_run_reads_crashed_never_finished_and_resumes_to_running(trackio_dir):
    proc = _start(VICTIM)
    try:
        _wait_ready(proc)
        victim = _runs(trackio_dir)["victim"]
        assert victim.status == "running" and victim.pid == proc.pid and victim.host == socket.gethostname()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)  # reaped: the pid no longer exists
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    seen = []
    deadline = time.monotonic() + STALE_AFTER + 30
    while time.monotonic() < deadline:
        seen.append(_runs(trackio_dir)["victim"].status)
        if seen[-1] == "crashed":
            break
        time.sleep(0.5)
    assert seen[-1] == "crashed" and "finished" not in seen
    # What was logged more than 0.25 s before the kill is on disk; the stored row still says running.
    assert db_rows(trackio_dir, "health", "SELECT count(*) FROM metrics")[0][0] == 20
    assert db_rows(trackio_dir, "health", "SELECT status, finished_at FROM runs WHERE name='victim'") == \
        [("running", None)]

    # The next init of the project (another run) stores `crashed`, so plain SQL sees it too.
    other = run_python('import trackio; trackio.init(project="health", name="other", auto_log_cpu=False); '
                       'trackio.finish()')
    assert other.returncode == 0, other.stderr
    assert db_rows(trackio_dir, "health", "SELECT name, status FROM runs ORDER BY rowid") == \
        [("victim", "crashed"), ("other", "finished")]
    assert _runs(trackio_dir)["victim"].status == "crashed"

    # Resuming the crashed run (another process) makes it running again, under the new pid.
    proc = _start(VICTIM.replace('name="victim"', 'name="victim", resume="allow"'))
    try:
        _wait_ready(proc)
        victim2 = _runs(trackio_dir)["victim"]
        assert victim2.id == victim.id
        assert victim2.status == "running" and victim2.pid == proc.pid
        assert db_rows(trackio_dir, "health", "SELECT status, finished_at FROM runs WHERE name='victim'") == \
            [("running", None)]
        assert db_rows(trackio_dir, "health", "SELECT max(step) FROM metrics")[0][0] == 39  # steps continued
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert _runs(trackio_dir)["victim"].status == "crashed"  # killed again


def test_normal_exit_without_finish_reads_finished(trackio_dir):
    code = ("import trackio\n"
            "trackio.init(project='health', name='atexit', auto_log_cpu=True, cpu_log_interval=0.1)\n"
            "import time\n"
            "for i in range(500):\n"
            "    trackio.log({'loss': i})\n"
            "time.sleep(0.5)\n")
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert "* Run finished. Uploading logs to Trackio (please wait...)" in proc.stdout
    assert proc.stderr == ""  # no warning (e.g. a sampler writing to the finished run)
    run = _runs(trackio_dir)["atexit"]
    assert run.status == "finished" and run.finished_at is not None
    assert db_rows(trackio_dir, "health", "SELECT count(*) FROM metrics")[0][0] == 500
    assert db_rows(trackio_dir, "health", "SELECT count(*) FROM system_metrics")[0][0] >= 1


def test_uncaught_exception_exit_still_commits_and_finishes(trackio_dir):
    proc = run_python("import trackio\ntrackio.init(project='health', name='boom', auto_log_cpu=False)\n"
                      "trackio.log({'loss': 1})\nraise SystemExit(3)\n")
    assert proc.returncode == 3
    assert _runs(trackio_dir)["boom"].status == "finished"  # contract §1.7: atexit counts as a finish
    assert db_rows(trackio_dir, "health", "SELECT count(*) FROM metrics")[0][0] == 1


def test_heartbeat_advances_while_the_run_lives(trackio_dir):
    import trackio

    trackio.init(project="health", name="beat", auto_log_cpu=False, auto_log_gpu=False)
    first = _runs(trackio_dir)["beat"].heartbeat_at
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _runs(trackio_dir)["beat"].heartbeat_at == first:
        time.sleep(0.5)
    beat = _runs(trackio_dir)["beat"]
    assert beat.heartbeat_at != first and ts_key(beat.heartbeat_at) > ts_key(first)
    assert beat.status == "running" and beat.pid == os.getpid()
    trackio.finish()
    done = _runs(trackio_dir)["beat"]
    assert done.status == "finished" and done.finished_at is not None


@pytest.mark.parametrize("status,age,pid,host,expected", [
    ("finished", 9999, None, None, "finished"),
    ("crashed", 0, "self", "here", "crashed"),
    ("running", 1, "self", "here", "running"),
    ("running", STALE_AFTER + 1, "self", "here", "crashed"),  # alive but silent past the threshold
    ("running", 1, "dead", "here", "crashed"),  # gone from this host
    ("running", 1, "dead", "elsewhere", "running"),  # another host's pid cannot be checked
    ("running", STALE_AFTER + 1, "dead", "elsewhere", "crashed"),
    ("running", None, "self", "here", "crashed"),
    (None, 0, None, None, "unknown"),
])
def test_compute_status_rules(status, age, pid, host, expected):
    now = time.time()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a real pid that no longer exists (reaped)
    pids = {"self": os.getpid(), "dead": dead.pid, None: None}
    hosts = {"here": socket.gethostname(), "elsewhere": "some-other-host", None: None}
    beat = None if age is None else format_ts(now - age)
    assert compute_status(status, beat, pids[pid], hosts[host], now) == expected
