"""Edge cases found by adversarial testing of the core: forks, lone surrogates, out-of-range alert
steps, configs that fail or loop, old files, long names, racing finish()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
import webhook_server
from conftest import db_rows, run_python

import trackio

QUIET = {"auto_log_cpu": False, "auto_log_gpu": False}


def test_forking_while_the_writer_commits_never_hangs_or_loses_the_childs_rows(trackio_dir):
    code = textwrap.dedent("""
        import os, signal, sys, trackio
        trackio.init("forky", name="r", auto_log_cpu=False)
        bad = 0
        for k in range(30):
            for i in range(2000):
                trackio.log({"loss": 1.0 / (i + 1)})        # keeps the parent's commit thread busy
            pid = os.fork()
            if pid == 0:
                signal.alarm(60)
                for j in range(20):
                    trackio.log({"child": k, "j": j})
                sys.exit(0)
            _, status = os.waitpid(pid, 0)
            bad += os.waitstatus_to_exitcode(status) != 0
        trackio.finish()
        print("BAD", bad)
    """)
    t0 = time.monotonic()
    done = run_python(code, timeout=600)
    assert "BAD 0" in done.stdout, done.stdout + done.stderr
    assert "Could not flush" not in done.stderr
    assert time.monotonic() - t0 < 200
    rows = db_rows(trackio_dir, "forky", "SELECT COUNT(*) FROM metrics WHERE json_extract(metrics, '$.child') IS NOT NULL")
    assert rows == [(30 * 20,)]
    assert db_rows(trackio_dir, "forky", "SELECT status FROM runs") == [("finished",)]


def test_multiprocessing_fork_workers_rows_are_committed(trackio_dir):
    code = textwrap.dedent("""
        import multiprocessing as mp, trackio
        def work(k):
            for i in range(100):
                trackio.log({"worker": k, "i": i})
        if __name__ == "__main__":
            trackio.init("mp", name="r", auto_log_cpu=False)
            for k in (1, 2):
                p = mp.get_context("fork").Process(target=work, args=(k,))
                p.start(); p.join()
            trackio.finish()
    """)
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert db_rows(trackio_dir, "mp", "SELECT json_extract(metrics, '$.worker'), COUNT(*) FROM metrics "
                                      "GROUP BY 1 ORDER BY 1") == [(1, 100), (2, 100)]


def test_a_forked_child_does_not_overwrite_the_config(trackio_dir):
    code = textwrap.dedent("""
        import os, sys, time, trackio
        trackio.init("forkcfg", name="r", config={"lr": 0.1}, auto_log_cpu=False)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.read(r, 1); trackio.log({"child": 1}); sys.exit(0)
        trackio.config["late"] = "set in parent after fork"
        time.sleep(0.5)
        os.write(w, b"x"); os.waitpid(pid, 0)
        trackio.finish()
    """)
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    (cfg,), = db_rows(trackio_dir, "forkcfg", "SELECT config FROM configs")
    assert json.loads(cfg)["late"] == "set in parent after fork"


def test_lone_surrogates_in_alerts_and_system_rows(trackio_dir, capsys):
    bad = os.fsdecode(b"ckpt-\xff.pt")
    trackio.init(project="sur", name="r", **QUIET)
    trackio.log_system({"gpu": 1})
    trackio.log_system({"path": bad})
    trackio.alert("first alert")
    trackio.alert(f"saved {bad}", bad)
    for i in range(10):
        trackio.log({"i": i})
    trackio.finish()
    assert db_rows(trackio_dir, "sur", "SELECT COUNT(*) FROM metrics") == [(10,)]
    assert [json.loads(m) for (m,) in db_rows(trackio_dir, "sur", "SELECT metrics FROM system_metrics ORDER BY id")] == [
        {"gpu": 1}, {"path": bad}]
    titles = [t for (t,) in db_rows(trackio_dir, "sur", "SELECT title FROM alerts ORDER BY id")]
    assert titles == ["first alert", "saved ckpt-\\udcff.pt"]
    assert db_rows(trackio_dir, "sur", "SELECT status FROM runs") == [("finished",)]
    assert "saved ckpt-\\udcff.pt" in capsys.readouterr().out


def test_alert_steps_are_validated_like_log_steps(trackio_dir):
    np = pytest.importorskip("numpy")
    run = trackio.init(project="alstep", name="r", **QUIET)
    trackio.log({"before": 1}, step=3)
    with pytest.warns(UserWarning, match=r"^trackio.alert\(\) ignored invalid step 18446744073709551616 "):
        run.alert("huge step", step=2**64)
    run.alert("numpy step", step=np.int64(9))
    for i in range(100):
        trackio.log({"after": i})
    trackio.finish()
    assert db_rows(trackio_dir, "alstep", "SELECT title, step FROM alerts ORDER BY id") == [("huge step", 3),
                                                                                          ("numpy step", 9)]
    assert db_rows(trackio_dir, "alstep", "SELECT COUNT(*) FROM metrics") == [(101,)]


def test_a_config_that_cannot_be_saved_loses_no_rows(trackio_dir):
    class Unprintable:
        __slots__ = ()

        def __str__(self):
            raise RuntimeError("no str")

        __repr__ = __str__

    trackio.init(project="cfgbad", name="r", **QUIET)
    for i in range(50):
        trackio.log({"x": i})
    trackio.config["obj"] = Unprintable()
    trackio.config["grow"] = {}
    for i in range(50, 150):
        trackio.config["grow"][f"k{i}"] = i  # changes under the writer while it reads the config
        trackio.log({"x": i})
    trackio.finish()
    assert db_rows(trackio_dir, "cfgbad", "SELECT COUNT(*) FROM metrics") == [(150,)]
    (cfg,), = db_rows(trackio_dir, "cfgbad", "SELECT config FROM configs")
    assert json.loads(cfg)["obj"] == "<unprintable Unprintable>" and len(json.loads(cfg)["grow"]) == 100


def test_cyclic_config_and_metrics(trackio_dir):
    d = {"a": 1}
    d["self"] = d
    d["again"] = d
    t0 = time.monotonic()
    trackio.init(project="graph", name="r", config={"d": d}, **QUIET)
    assert time.monotonic() - t0 < 5
    m = {"loss": 0.5, "acc": 0.9}
    m["extra"] = {"self": m}
    with pytest.warns(UserWarning, match=r"skipped metric 'extra/self': it contains itself"):
        trackio.log(m)
    trackio.finish()
    assert db_rows(trackio_dir, "graph", "SELECT metrics FROM metrics") == [('{"loss":0.5,"acc":0.9}',)]
    (cfg,), = db_rows(trackio_dir, "graph", "SELECT config FROM configs")
    assert json.loads(cfg)["d"] == {"a": 1, "self": "<cycle: dict>", "again": "<cycle: dict>"}


def test_long_project_names_are_refused_before_any_write(trackio_dir):
    with pytest.raises(ValueError, match=r"its file name would be 245 bytes long; the limit is 244 bytes"):
        trackio.init(project="p" * 245)
    assert not trackio_dir.exists()
    with pytest.raises(ValueError, match=r"would be 270 bytes long"):
        trackio.init(project="名" * 90)
    trackio.init(project="p" * 244, **QUIET)
    trackio.log({"v": 1})
    trackio.finish()
    assert db_rows(trackio_dir, "p" * 244, "SELECT COUNT(*) FROM metrics") == [(1,)]


def test_an_older_file_with_one_config_per_name_gives_a_clear_error(trackio_dir):
    import sqlite3

    trackio_dir.mkdir(parents=True)
    conn = sqlite3.connect(trackio_dir / "old.db")
    conn.executescript("""
        CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL, run_name TEXT NOT NULL,
                              step INTEGER NOT NULL, metrics TEXT NOT NULL);
        CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_name TEXT NOT NULL, config TEXT NOT NULL,
                              created_at TEXT NOT NULL, UNIQUE(run_name));
        INSERT INTO configs (run_name, config, created_at) VALUES ('oldrun', '{"lr":2}', '2024-01-01T00:00:00');
    """)
    conn.commit()
    conn.close()
    with pytest.raises(ValueError, match=r"older trackio that allows one run per name .*resume=\"allow\""):
        trackio.init(project="old", name="oldrun", **QUIET)
    run = trackio.init(project="old", name="oldrun", resume="allow", **QUIET)
    assert run.config["lr"] == 2
    trackio.finish()


def test_non_string_run_names(trackio_dir):
    assert trackio.init(project="p", name=123, **QUIET).name == "123"
    with pytest.raises(ValueError, match=r"^Run name must be a string, got tuple$"):
        trackio.init(project="p", name=("t",))
    trackio.finish()


def test_finish_racing_logging_threads_loses_no_accepted_row(trackio_dir):
    import threading
    import warnings

    run = trackio.init(project="race", name="r", **QUIET)
    accepted = [0] * 4

    def worker(k):
        while True:
            try:
                run.log({"k": k})
            except UserWarning:  # "called on finished run": the only rows not stored
                return
            accepted[k] += 1

    with warnings.catch_warnings():  # one filter for all threads (catch_warnings is not thread-safe)
        warnings.simplefilter("error", UserWarning)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        trackio.finish()
        for t in threads:
            t.join()
    assert db_rows(trackio_dir, "race", "SELECT COUNT(*) FROM metrics") == [(sum(accepted),)]


def test_webhooks_wait_five_seconds_in_total_and_redirects_are_failures(tmp_path):
    server, rec, base = webhook_server.start()
    try:
        code = textwrap.dedent(f"""
            import time, trackio
            trackio.init(project="wh", name="r", auto_log_cpu=False)
            trackio.alert("hang", webhook_url="{base}/hang/x")
            trackio.finish()
        """)
        t0 = time.monotonic()
        done = run_python(code, env={"TRACKIO_DIR": str(tmp_path)})
        assert time.monotonic() - t0 < 9
        assert done.stderr.count("still pending after 5s; giving up.") == 1, done.stderr
    finally:
        rec.stop.set()
        server.shutdown()
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
        code = f"import trackio\ntrackio.init(project='wh', name='r2', auto_log_cpu=False)\ntrackio.alert('moved', webhook_url='{url}')\n"
        done = run_python(code, env={"TRACKIO_DIR": str(tmp_path)})
        assert f"Failed to send webhook to {url}: HTTP Error 302" in done.stderr, done.stderr
    finally:
        srv.shutdown()
