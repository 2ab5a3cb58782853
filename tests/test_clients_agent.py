"""The autonomous-agent workflow end to end, and the PyTorch training example.

``examples/agent_workflow.py`` launches a real training in the background (the demo's LR range test,
which diverges and then overflows), polls ``trackio list alerts --json --since <last seen>`` and reads
``trackio get snapshot --around <step>`` for each alert, through the installed ``trackio`` command. The
store side is checked with sqlite3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import db_rows

pytest.importorskip("numpy")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
TRACKIO = str(Path(sys.executable).with_name("trackio"))



def test_agent_polls_each_alert_exactly_once_and_reads_the_snapshot(trackio_dir, tmp_path):
    report = tmp_path / "report.jsonl"
    # An older run with the same name and its alert: the agent must not report it (it polls from launch).
    import trackio

    trackio.init(project="agent", name="lrt")
    trackio.alert("Old news", "from an earlier run", level="error")
    trackio.finish()

    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "agent_workflow.py"), "--project", "agent", "--run", "lrt",
         "--interval", "0.3", "--window", "3", "--report", str(report), "--keep-going"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    stored = db_rows(trackio_dir, "agent",
                     "SELECT alert_id, title, level, step FROM alerts WHERE run_id = "
                     "(SELECT id FROM runs WHERE name = 'lrt' ORDER BY rowid DESC LIMIT 1) ORDER BY id")
    assert {s[2] for s in stored} >= {"warn", "error"}, stored
    events = [json.loads(line) for line in report.read_text().splitlines()]
    received = [e["alert"]["alert_id"] for e in events]
    assert received == [s[0] for s in stored], "every alert of the run, each exactly once, in order"
    assert "Old news" not in proc.stdout
    assert events[0]["training_running"], "the first alert reached the agent while training was running"

    for event, (_, title, level, step) in zip(events, stored):
        alert, snap = event["alert"], event["snapshot"]
        assert (alert["title"], alert["level"], alert["step"], alert["run"]) == (title, level, step, "lrt")
        assert (snap["project"], snap["run"], snap["around"], snap["window"]) == ("agent", "lrt", step, 3)
        loss_rows = snap["metrics"]["train/loss"]
        assert {r["step"] for r in loss_rows} <= set(range(step - 3, step + 4))
        assert step in {r["step"] for r in loss_rows}
        assert f"[{level.upper()}] {title} at step {step}" in proc.stdout
    fatal = events[-1]
    assert fatal["alert"]["level"] == "error"
    at_step = [r["value"] for r in fatal["snapshot"]["metrics"]["train/loss"] if r["step"] == fatal["alert"]["step"]]
    assert at_step in (["NaN"], ["Infinity"]), "the snapshot shows the non-finite loss that fired the alert"


def test_agent_stops_training_on_error(trackio_dir, tmp_path):
    """A training script that raises an ERROR alert but keeps going (the demo and the torch example stop
    themselves): the agent terminates it."""
    script = tmp_path / "train.py"
    script.write_text(
        "import time, trackio\n"
        "run = trackio.init(project='stopper', name='s')\n"
        "for i in range(100000):\n"
        "    run.log({'loss': 1.0 / (i + 1)})\n"
        "    if i == 20:\n"
        "        run.alert('Broken', 'something is wrong', level='error')\n"
        "    time.sleep(0.02)\n"
        "run.finish()\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "agent_workflow.py"), "--project", "stopper", "--run", "s",
         "--interval", "0.3", "--", sys.executable, str(script)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "agent: stopping the training" in proc.stdout and "(stopped by the agent)" in proc.stdout
    (max_step,) = db_rows(trackio_dir, "stopper", "SELECT max(step) FROM metrics")[0]
    assert 20 <= max_step < 100000


def test_torch_training_example_fires_divergence_and_nan_alerts(trackio_dir):
    pytest.importorskip("torch")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    healthy = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"), "--name", "ok",
                              "--steps", "300"], capture_output=True, text=True, timeout=600, env=env)
    assert healthy.returncode == 0, healthy.stderr
    finder = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"), "--name", "finder",
                             "--schedule", "range"], capture_output=True, text=True, timeout=600, env=env)
    assert finder.returncode == 0, finder.stderr

    runs = db_rows(trackio_dir, "digits", "SELECT name, status FROM runs ORDER BY rowid")
    assert runs == [("ok", "finished"), ("finder", "finished")]
    val = [json.loads(m)["val/accuracy"] for (m,) in db_rows(
        trackio_dir, "digits", "SELECT metrics FROM metrics WHERE run_name = 'ok' AND metrics LIKE '%val/accuracy%' "
                               "ORDER BY id")]
    assert len(val) == 20 and val[-1] > 0.9
    first = json.loads(db_rows(trackio_dir, "digits", "SELECT metrics FROM metrics ORDER BY id LIMIT 1")[0][0])
    assert set(first) == {"train/loss", "train/lr", "train/grad_norm", "train/accuracy"}
    alerts = db_rows(trackio_dir, "digits", "SELECT run_name, level, title FROM alerts ORDER BY id")
    assert ("finder", "warn", "Loss diverging") in alerts
    assert [a for a in alerts if a[1] == "error"][0][2] in ("Loss is NaN", "Loss is Infinity")
    config = json.loads(db_rows(trackio_dir, "digits", "SELECT config FROM configs WHERE run_name = 'finder'")[0][0])
    assert config["schedule"] == "range" and config["lr_max"] == 1000.0
