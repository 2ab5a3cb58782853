"""The CLI against projects being written: 4 writer processes at once, and a reader racing a live
writer (no error for the reader, the writer never blocked or warned)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from cli_support import cli

WRITER = r'''
import sys, time, trackio
name, steps, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
start = sys.argv[4] if len(sys.argv) > 4 else None
while start and not __import__("os").path.exists(start):
    time.sleep(0.01)
trackio.init(project="shared", name=name, config={"writer": name}, auto_log_cpu=False, auto_log_gpu=False)
for i in range(steps):
    trackio.log({"loss": 1.0 / (i + 1), "writer": name, "nested": {"i": i}})
    if pause:
        time.sleep(pause)
    if i == steps // 2:
        trackio.alert("half", text=name, level="info")
trackio.finish()
'''


def _writer(d, *args) -> subprocess.Popen:
    env = {**os.environ, "TRACKIO_DIR": str(d)}
    return subprocess.Popen([sys.executable, "-c", WRITER, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)


def test_project_written_by_four_processes_at_once(tmp_path):
    d = tmp_path / "data"
    go = tmp_path / "go"
    procs = [_writer(d, f"w{k}", 3000, 0, go) for k in range(4)]
    time.sleep(0.5)
    go.write_text("")
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "locked" not in err.lower() and "Warning" not in err
    doc = cli("get", "project", "--project", "shared", "--json", data_dir=d).json()
    assert doc["num_runs"] == 4 and doc["last_activity"] == 2999
    assert sorted(r["name"] for r in doc["runs"]) == ["w0", "w1", "w2", "w3"]
    assert {r["status"] for r in doc["runs"]} == {"finished"}
    for k in range(4):
        values = cli("get", "metric", "--project", "shared", "--run", f"w{k}", "--metric", "writer", "--json",
                     data_dir=d).json()["values"]
        assert len(values) == 3000 and {v["value"] for v in values} == {f"w{k}"}
        assert [v["step"] for v in values] == list(range(3000))
        names = cli("list", "metrics", "--project", "shared", "--run", f"w{k}", "--json", data_dir=d).json()
        assert names["metrics"] == ["loss", "nested/i", "writer"]
    alerts = cli("list", "alerts", "--project", "shared", "--json", data_dir=d).json()["alerts"]
    assert sorted(a["text"] for a in alerts) == ["w0", "w1", "w2", "w3"]
    q = cli("query", "project", "--project", "shared", "--sql",
            "SELECT run_name, COUNT(*) AS n FROM metrics GROUP BY run_name ORDER BY run_name", "--json", data_dir=d)
    assert [r["n"] for r in q.json()["rows"]] == [3000] * 4


def test_reader_racing_a_live_writer(tmp_path):
    d = tmp_path / "data"
    writer = _writer(d, "live", 400, 0.01)
    deadline = time.monotonic() + 120
    while not (d / "shared.db").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    seen, status = [], set()
    while writer.poll() is None and time.monotonic() < deadline:
        r = cli("get", "metric", "--project", "shared", "--run", "live", "--metric", "loss", "--json", data_dir=d)
        if r.rc == 1 and "not found" in r.err:  # before the first row is committed
            continue
        assert r.rc == 0 and r.err == "", r.err
        seen.append(len(r.json()["values"]))
        for args in (["get", "run", "--project", "shared", "--run", "live"], ["list", "metrics", "--project", "shared",
                     "--run", "live"], ["get", "snapshot", "--project", "shared", "--run", "live", "--around", "100"],
                     ["query", "project", "--project", "shared", "--sql", "SELECT COUNT(*) AS n FROM metrics"]):
            r = cli(*args, "--json", data_dir=d)
            assert r.rc == 0 and r.err == "", (args, r.err)
            if args[1] == "run":
                status.add(r.json()["status"])
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "locked" not in err.lower() and "Could not flush" not in err
    assert seen == sorted(seen) and len(set(seen)) >= 2, seen  # the reader saw the run grow
    assert "running" in status
    final = cli("get", "run", "--project", "shared", "--run", "live", "--json", data_dir=d).json()
    assert final["num_logs"] == 400 and final["status"] == "finished"
