"""Durability and concurrency with real processes: SIGKILL mid-run, many writers at once, a reader
racing them (contract §2.7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from conftest import db_rows

from trackio.store.runs import project_runs
from trackio.store.reader import open_project

WRITER = textwrap.dedent("""
    import sys, time, trackio
    side = open(sys.argv[1], "a", buffering=1)
    trackio.init(project="crash", name="victim", config={"lr": 0.01, "layers": [1, 2]})
    i = 0
    while True:
        t = time.time()
        trackio.log({"i": i, "loss": 1.0 / (i + 1)})
        side.write(f"{i} {t}\\n")
        i += 1
        time.sleep(0.002)
""")


def test_sigkill_loses_nothing_older_than_a_quarter_second(trackio_dir, tmp_path):
    side = tmp_path / "calls.txt"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(side)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not side.exists() or side.stat().st_size < 20000):
        time.sleep(0.05)
    time.sleep(0.5)
    t_kill = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    calls = [line.split() for line in side.read_text().splitlines() if line.count(" ") == 1]
    must_have = {int(i) for i, t in calls if float(t) < t_kill - 0.25}
    assert len(must_have) > 500
    stored = {json.loads(m)["i"] for (m,) in db_rows(trackio_dir, "crash", "SELECT metrics FROM metrics")}
    assert must_have <= stored, f"lost {len(must_have - stored)} rows"
    assert db_rows(trackio_dir, "crash", "PRAGMA integrity_check") == [("ok",)]
    assert db_rows(trackio_dir, "crash", "SELECT status FROM runs") == [("running",)]  # as left on disk
    conn = open_project("crash")
    (run,) = project_runs(conn)
    conn.close()
    assert run.status == "crashed"  # its pid is gone on this host

    max_step = db_rows(trackio_dir, "crash", "SELECT MAX(step) FROM metrics")[0][0]
    resume = textwrap.dedent("""
        import trackio
        run = trackio.init(project="crash", name="victim", resume="must")
        assert run.config["lr"] == 0.01 and run.config["layers"] == [1, 2], run.config
        trackio.log({"resumed": 1})
        trackio.finish()
    """)
    done = subprocess.run([sys.executable, "-c", resume], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    last = db_rows(trackio_dir, "crash", "SELECT step, metrics FROM metrics ORDER BY id DESC LIMIT 1")[0]
    assert last == (max_step + 1, '{"resumed":1}')
    assert db_rows(trackio_dir, "crash", "SELECT status FROM runs") == [("finished",)]


CONCURRENT = textwrap.dedent("""
    import sys, trackio
    k = int(sys.argv[1])
    trackio.init(project="busy", name=f"w{k}", config={"k": k})
    for i in range(5000):
        trackio.log({"k": k, "i": i, "loss": i * 0.5})
    trackio.finish()
""")

READER = textwrap.dedent("""
    import sqlite3, sys, time
    from trackio.store.reader import open_project
    from trackio.store.runs import project_runs, tables
    reads = 0
    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        try:
            conn = open_project("busy")
        except LookupError:
            time.sleep(0.01)
            continue
        try:
            project_runs(conn)
            if "metrics" not in tables(conn):  # the file exists a moment before its schema
                continue
            conn.execute("SELECT COUNT(*), MAX(step) FROM metrics").fetchone()
            conn.execute("SELECT json_extract(metrics, '$.loss') FROM metrics ORDER BY id DESC LIMIT 50").fetchall()
            reads += 1
        finally:
            conn.close()
    print(reads)
""")


def test_eight_writers_and_a_reader_at_once(trackio_dir):
    env = os.environ.copy()
    reader = subprocess.Popen([sys.executable, "-c", READER, "8"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    writers = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(k)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env) for k in range(8)]
    for w in writers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0 and err == "", err
    out, err = reader.communicate(timeout=300)
    assert reader.returncode == 0 and err == "", err
    assert int(out) > 0
    rows = db_rows(trackio_dir, "busy", "SELECT run_name, COUNT(*), MIN(step), MAX(step), COUNT(DISTINCT step) "
                                        "FROM metrics GROUP BY run_name ORDER BY run_name")
    assert rows == [(f"w{k}", 5000, 0, 4999, 5000) for k in range(8)]
    for k in range(8):
        got = [json.loads(m)["i"] for (m,) in db_rows(trackio_dir, "busy", "SELECT metrics FROM metrics "
                                                                            "WHERE run_name=? ORDER BY id", (f"w{k}",))]
        assert got == list(range(5000))
    assert db_rows(trackio_dir, "busy", "SELECT COUNT(*) FROM runs WHERE status='finished'") == [(8,)]
    assert db_rows(trackio_dir, "busy", "PRAGMA integrity_check") == [("ok",)]


def test_init_only_run_is_listed_with_its_config(trackio_dir):
    code = "import trackio; trackio.init(project='lonely', name='idle', config={'a': 1}); trackio.finish()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    conn = open_project("lonely")
    (run,) = project_runs(conn)
    (cfg,) = conn.execute("SELECT config FROM configs WHERE run_id=?", (run.id,)).fetchone()
    conn.close()
    assert (run.name, run.status) == ("idle", "finished") and json.loads(cfg)["a"] == 1


def test_exit_without_finish_flushes_and_finishes(trackio_dir):
    code = "import trackio; trackio.init(project='exit', name='e'); [trackio.log({'i': i}) for i in range(300)]"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "* Run finished." in done.stdout
    assert db_rows(trackio_dir, "exit", "SELECT COUNT(*) FROM metrics") == [(300,)]
    assert db_rows(trackio_dir, "exit", "SELECT status FROM runs") == [("finished",)]


def test_forked_child_logs_with_its_own_writer(trackio_dir):
    code = textwrap.dedent("""
        import os, trackio
        trackio.init(project="fork", name="parent")
        trackio.log({"who": "parent-before"})
        pid = os.fork()
        if pid == 0:
            trackio.log({"who": "child"})
            trackio.finish()
            os._exit(0)
        os.waitpid(pid, 0)
        trackio.log({"who": "parent-after"})
        trackio.finish()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    whos = sorted(json.loads(m)["who"] for (m,) in db_rows(trackio_dir, "fork", "SELECT metrics FROM metrics"))
    assert whos == ["child", "parent-after", "parent-before"]
    assert db_rows(trackio_dir, "fork", "SELECT status FROM runs") == [("finished",)]


LOCK_WRITER = textwrap.dedent("""
    import sys, time, trackio
    for k in range(3):
        trackio.init(project="shared", name=f"sub{k}", auto_log_cpu=False, auto_log_gpu=False)
        for s in range(300):
            trackio.log({"s": s})
            time.sleep(0.001)
        trackio.finish()
""")


def test_readers_in_a_writers_process_never_break_its_locks(trackio_dir):
    """Opening a project for reading (as the TUI does inside a training process) must go through
    SQLite only: a plain open()/close() of the file drops the process's POSIX locks and corrupts it."""
    import threading

    from trackio.store.reader import scan_projects

    import trackio

    trackio.init(project="shared", name="local", auto_log_cpu=False, auto_log_gpu=False)
    errors, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                scan_projects()
                conn = open_project("shared")
                project_runs(conn)
                conn.execute("SELECT COUNT(*), MAX(id) FROM metrics").fetchone()
                conn.close()
            except Exception as e:  # noqa: BLE001 - any error is the failure
                errors.append(repr(e))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    proc = subprocess.Popen([sys.executable, "-c", LOCK_WRITER], stderr=subprocess.PIPE, text=True)
    for s in range(600):
        trackio.log({"s": s})
        time.sleep(0.002)
    _, err = proc.communicate(timeout=120)
    stop.set()
    for t in threads:
        t.join()
    trackio.finish()
    assert proc.returncode == 0 and err == "", err
    assert errors == []
    assert db_rows(trackio_dir, "shared", "PRAGMA integrity_check") == [("ok",)]
    assert db_rows(trackio_dir, "shared", "SELECT run_name, COUNT(*) FROM metrics GROUP BY run_name ORDER BY 1") == [
        ("local", 600), ("sub0", 300), ("sub1", 300), ("sub2", 300)]
