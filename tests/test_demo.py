"""``trackio.demo.run_demo``: real training on scikit-learn's digits that leaves a readable project.

The store is checked with plain sqlite3; the last test drives the installed ``trackio`` command
(``trackio demo``, ``list``/``get``).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import db_rows, run_python

pytest.importorskip("numpy")
pytest.importorskip("sklearn")

TRACKIO = str(Path(sys.executable).with_name("trackio"))



def _rows_if_ready(trackio_dir, project, sql):
    """``sql``'s rows, or ``[]`` while the file or its schema is still being created by the writer."""
    if not (trackio_dir / f"{project}.db").exists():
        return []
    try:
        return db_rows(trackio_dir, project, sql)
    except sqlite3.OperationalError:  # "no such table" in the instant between file and schema
        return []


def _runs(trackio_dir, project):
    return db_rows(trackio_dir, project, "SELECT name, status FROM runs ORDER BY rowid")


def _alerts(trackio_dir, project):
    return db_rows(trackio_dir, project, "SELECT run_name, level, title, text, step FROM alerts ORDER BY id")


def test_run_demo_trains_three_runs_and_fires_every_kind_of_alert(trackio_dir, capsys):
    from trackio.demo import run_demo

    run_demo(project="demo-test")
    out = capsys.readouterr().out
    assert "* Demo finished: 3 runs in project 'demo-test'" in out
    assert 'trackio tui --project "demo-test"' in out

    assert _runs(trackio_dir, "demo-test") == [("baseline", "finished"), ("small-lr", "finished"),
                                               ("lr-range-test", "finished")]
    rows = db_rows(trackio_dir, "demo-test", "SELECT run_name, step, metrics FROM metrics ORDER BY id")
    by_run: dict[str, list] = {}
    for name, step, text in rows:
        by_run.setdefault(name, []).append((step, json.loads(text)))
    base = by_run["baseline"]
    train_rows = [m for _, m in base if "train/loss" in m]
    assert len(train_rows) == 600
    assert set(train_rows[0]) == {"train/loss", "train/accuracy", "train/lr", "train/grad_norm"}
    val_rows = [(s, m) for s, m in base if "val/accuracy" in m]
    assert len(val_rows) == 40 and val_rows[-1][0] == 599
    assert val_rows[-1][1]["val/accuracy"] > 0.9, "the baseline really learns the digits"
    assert train_rows[0]["train/loss"] > 2.0 > 0.5 > val_rows[-1][1]["val/loss"]
    lrs = [m["train/lr"] for m in train_rows]
    assert lrs[0] == 0.05 and min(lrs) < 0.05, "a plateau halved the learning rate"

    alerts = _alerts(trackio_dir, "demo-test")
    kinds = {(name, level, title) for name, level, title, _, _ in alerts}
    assert ("baseline", "info", "Plateau") in kinds
    assert ("lr-range-test", "warn", "Loss diverging") in kinds
    (fatal,) = [a for a in alerts if a[1] == "error"]
    assert fatal[0] == "lr-range-test" and fatal[2] in ("Loss is NaN", "Loss is Infinity")
    range_rows = by_run["lr-range-test"]
    last_step, last = [(s, m) for s, m in range_rows if "train/loss" in m][-1]
    assert last["train/loss"] in ("NaN", "Infinity") and fatal[4] == last_step < 599, "the guard stopped it"

    (config,) = db_rows(trackio_dir, "demo-test", "SELECT config FROM configs WHERE run_name = 'baseline'")[0]
    config = json.loads(config)
    assert config["dataset"].startswith("sklearn digits") and config["lr"] == 0.05 and config["steps"] == 600


def test_run_demo_twice_uses_fresh_run_names_and_validates_steps(trackio_dir, capsys):
    from trackio.demo import run_demo

    run_demo(project="again", steps=30)
    run_demo(project="again", steps=30)
    names = [n for n, _ in _runs(trackio_dir, "again")]
    assert names == ["baseline", "small-lr", "lr-range-test", "baseline-2", "small-lr-2", "lr-range-test-2"]
    for bad in (0, -5, 2.5, "10", True):
        with pytest.raises(ValueError, match="steps must be a positive integer"):
            run_demo(project="again", steps=bad)
    assert len(_runs(trackio_dir, "again")) == 6


def test_run_demo_without_scikit_learn_says_how_to_install(trackio_dir):
    proc = run_python("import sys; sys.modules['sklearn'] = None\n"
                      "from trackio.demo import run_demo, DemoUnavailable\n"
                      "try:\n    run_demo(project='x')\n"
                      "except DemoUnavailable as e:\n    print('ERR', e)\n")
    assert proc.returncode == 0, proc.stderr
    assert "ERR trackio demo needs numpy and scikit-learn (sklearn is missing): pip install 'trackio[demo]'" \
        in proc.stdout
    assert not trackio_dir.exists(), "nothing written"


def test_live_demo_trains_in_background_processes_and_stops_them_when_the_dashboard_closes(
        trackio_dir, tmp_path, monkeypatch, capsys):
    """The dashboard is another helper's; here a stand-in watches the store like a user would and
    'quits' once every run is visibly training. The background runs must then be finished cleanly."""
    import tempfile

    from trackio.demo import _run_live

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the training log goes there

    names = {"baseline": "b", "small-lr": "s", "lr-range-test": "r"}
    seen = {}

    def dashboard(project):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counts = dict(_rows_if_ready(trackio_dir, "live",
                                         "SELECT run_name, count(*) FROM metrics GROUP BY run_name"))
            if len(counts) == 3 and min(counts.values()) >= 5:
                seen.update(counts)
                return
            time.sleep(0.2)

    _run_live("live", names, 100_000, dashboard)  # far more steps than the test waits for
    assert set(seen) == {"b", "s", "r"}
    assert sorted(_runs(trackio_dir, "live")) == [("b", "finished"), ("r", "finished"), ("s", "finished")]
    counts = dict(db_rows(trackio_dir, "live", "SELECT run_name, max(step) FROM metrics GROUP BY run_name"))
    assert all(5 <= counts[n] < 100_000 for n in "bsr")
    (log,) = tmp_path.glob("trackio-demo-*.log")
    assert f"* Demo stopped. Training output: {log}" in capsys.readouterr().out
    assert "* Created new run: b" in log.read_text()


def test_run_demo_live_without_a_terminal_trains_in_the_foreground(trackio_dir):
    """Not on a terminal the live dashboard cannot open: the demo says so and trains in the foreground."""
    proc = run_python("from trackio.demo import run_demo; run_demo(project='lv', steps=40, live=True)", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "* The live dashboard needs a terminal; training in the foreground instead." in proc.stdout
    assert _runs(trackio_dir, "lv") == [("baseline", "finished"), ("small-lr", "finished"),
                                        ("lr-range-test", "finished")]


def test_background_training_process_finishes_its_run_on_sigterm(trackio_dir):
    proc = subprocess.Popen([sys.executable, "-m", "trackio.demo", "--project", "term", "--name", "t",
                             "--kind", "baseline", "--steps", "100000", "--pace", "0.01"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _rows_if_ready(trackio_dir, "term", "SELECT 1 FROM metrics LIMIT 1"):
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 130, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _runs(trackio_dir, "term") == [("t", "finished")]


def test_trackio_demo_command_leaves_a_project_the_cli_reads(trackio_dir):
    """``trackio demo`` (wired by the lead to ``run_demo``), then the agent's read commands."""
    env = dict(os.environ)
    done = subprocess.run([TRACKIO, "demo", "--project", "cli-demo", "--steps", "200"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    runs = json.loads(subprocess.run([TRACKIO, "list", "runs", "--project", "cli-demo", "--json"],
                                     capture_output=True, text=True, env=env, timeout=60).stdout)
    assert (runs["project"], runs["runs"]) == ("cli-demo", ["baseline", "small-lr", "lr-range-test"])
    run = json.loads(subprocess.run([TRACKIO, "get", "run", "--project", "cli-demo", "--run", "baseline", "--json"],
                                    capture_output=True, text=True, env=env, timeout=60).stdout)
    assert run["status"] == "finished" and run["config"]["steps"] == 200
    assert {"train/loss", "train/accuracy", "train/lr", "val/loss", "val/accuracy"} <= set(run["metrics"])
    alerts = json.loads(subprocess.run([TRACKIO, "list", "alerts", "--project", "cli-demo", "--json"],
                                       capture_output=True, text=True, env=env, timeout=60).stdout)
    assert {a["level"] for a in alerts["alerts"]} >= {"warn", "error"}
