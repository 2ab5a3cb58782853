"""Alerts: the terminal line, storage, and webhook delivery against a real local HTTP server
(contract §3)."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import time

import pytest
import webhook_server
from conftest import db_rows, run_python

import trackio


@pytest.fixture
def hooks():
    server, rec, base = webhook_server.start()
    yield rec, base
    rec.stop.set()
    server.shutdown()


def _wait_for(fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.02)
    return fn()


def test_alert_line_storage_and_levels(trackio_dir, capsys):
    run = trackio.init(project="p", name="a")
    trackio.log({"v": 1}, step=100)
    trackio.log({"v": 2}, step=40)  # explicit backwards step: the default alert step follows the latest log
    trackio.alert("Loss is NaN", "train/loss became NaN at step 100", level=trackio.AlertLevel.ERROR)
    trackio.alert("Halfway", level="INFO ")
    with pytest.warns(UserWarning, match=r"^Invalid alert level 'loud'\. Expected one of: info, warn, error\. Using warn\.$"):
        trackio.alert("Odd", "", level="loud")
    run.alert("Explicit", "x", step=7)
    trackio.finish()
    out = capsys.readouterr().out.splitlines()
    assert "[TRACKIO ERROR] Loss is NaN: train/loss became NaN at step 100 (step 40)" in out
    assert "[TRACKIO INFO] Halfway (step 40)" in out
    assert "[TRACKIO WARN] Odd (step 40)" in out
    assert "[TRACKIO WARN] Explicit: x (step 7)" in out
    rows = db_rows(trackio_dir, "p", "SELECT run_id, run_name, title, text, level, step, length(alert_id) "
                                      "FROM alerts ORDER BY id")
    assert rows == [(run.id, "a", "Loss is NaN", "train/loss became NaN at step 100", "error", 40, 32),
                    (run.id, "a", "Halfway", None, "info", 40, 32),
                    (run.id, "a", "Odd", "", "warn", 40, 32),
                    (run.id, "a", "Explicit", "x", "warn", 7, 32)]
    assert trackio.AlertLevel.WARN == "warn" and isinstance(trackio.AlertLevel.INFO, str)
    # alerts are not metrics
    assert db_rows(trackio_dir, "p", "SELECT COUNT(*) FROM metrics") == [(2,)]


def test_alert_default_step_before_any_log_and_after_resume(trackio_dir):
    trackio.init(project="p", name="r")
    trackio.alert("first")
    trackio.log({"v": 1}, step=9)
    trackio.finish()
    trackio.init(project="p", name="r", resume="allow")
    trackio.alert("resumed")
    trackio.finish()
    assert db_rows(trackio_dir, "p", "SELECT title, step FROM alerts ORDER BY id") == [("first", 0), ("resumed", 9)]


def test_alert_colour_only_on_a_tty(trackio_dir):
    code = textwrap.dedent("""
        import os, pty, sys
        import trackio
        trackio.init(project="p", name="c")
        master, slave = pty.openpty()
        sys.stdout = os.fdopen(slave, "w")
        trackio.alert("Loss is NaN", "boom", level="error")
        sys.stdout.flush()
        data = os.read(master, 4096)
        sys.stdout = sys.__stdout__
        print(repr(data))
        trackio.finish()
    """)
    done = run_python(code)
    assert "\\x1b[91m[TRACKIO ERROR]\\x1b[0m Loss is NaN: boom (step 0)" in done.stdout, done.stderr
    done = run_python(code, env={"NO_COLOR": "1"})
    assert "b'[TRACKIO ERROR] Loss is NaN: boom (step 0)" in done.stdout, done.stderr


def test_webhook_payloads_are_exact(trackio_dir, hooks):
    rec, base = hooks
    trackio.init(project="wh", name="run-1", webhook_url=f"{base}/ok/generic")
    trackio.alert("slack error", "boom", level="error", webhook_url=f"{base}/ok/hooks.slack.com/services/x")
    trackio.alert("slack info", None, level="info", webhook_url=f"{base}/ok/hooks.slack.com/services/x")
    trackio.alert("discord warn", "<text>", webhook_url=f"{base}/ok/discord.com/api/webhooks/1")
    trackio.alert("discord bare", level="info", webhook_url=f"{base}/ok/discordapp.com/api/webhooks/1")
    trackio.alert("generic warn", "some text")
    trackio.alert("generic none")
    trackio.finish()
    (ts1,), (ts2,) = db_rows(trackio_dir, "wh", "SELECT timestamp FROM alerts WHERE title LIKE 'generic%' ORDER BY id")
    slack = rec.bodies("slack")
    assert slack == [
        {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "🚨 *[ERROR] slack error*"}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "boom"}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Project: wh  •  Run: run-1  •  Step 0"}]}]},
        {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "ℹ️ *[INFO] slack info*"}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Project: wh  •  Run: run-1  •  Step 0"}]}]},
    ]
    discord = rec.bodies("discord")
    assert discord == [
        {"embeds": [{"title": "⚠️ [WARN] discord warn", "color": 16776960,
                     "footer": {"text": "Project: wh  •  Run: run-1  •  Step 0"}, "description": "<text>"}]},
        {"embeds": [{"title": "ℹ️ [INFO] discord bare", "color": 3447003,
                     "footer": {"text": "Project: wh  •  Run: run-1  •  Step 0"}}]},
    ]
    assert list(discord[0]["embeds"][0]) == ["title", "color", "footer", "description"]
    assert rec.bodies("generic") == [
        {"level": "warn", "title": "generic warn", "text": "some text", "project": "wh", "run": "run-1", "step": 0,
         "timestamp": ts1},
        {"level": "warn", "title": "generic none", "text": None, "project": "wh", "run": "run-1", "step": 0,
         "timestamp": ts2},
    ]
    first = rec.requests[0]
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["User-Agent"] == f"trackio/{trackio.__version__}"


def test_min_level_and_environment_url(trackio_dir, hooks, monkeypatch):
    rec, base = hooks
    monkeypatch.setenv("TRACKIO_WEBHOOK_URL", f"{base}/ok/env")
    monkeypatch.setenv("TRACKIO_WEBHOOK_MIN_LEVEL", " Warn ")
    trackio.init(project="wh", name="lvl")
    trackio.alert("quiet", level="info")
    trackio.alert("loud", level="error")
    trackio.alert("per-alert url", level="info", webhook_url=f"{base}/ok/other")  # min level applies too
    trackio.finish()
    assert [b["title"] for b in rec.bodies("/ok/")] == ["loud"]
    assert db_rows(trackio_dir, "wh", "SELECT COUNT(*) FROM alerts") == [(3,)]


def test_truncation_to_service_limits(trackio_dir, hooks):
    rec, base = hooks
    trackio.init(project="wh", name="long")
    title, text = "T" * 5000, "x" * 9000
    trackio.alert(title, text, webhook_url=f"{base}/ok/hooks.slack.com/a")
    trackio.alert(title, text, webhook_url=f"{base}/ok/discord.com/api/webhooks/b")
    trackio.finish()
    (slack,) = rec.bodies("slack")
    header, body = slack["blocks"][0]["text"]["text"], slack["blocks"][1]["text"]["text"]
    assert len(header) == 3000 and header.endswith("…*") and header.startswith("⚠️ *[WARN] TTT")
    assert len(body) == 3000 and body.endswith("…")
    (discord,) = rec.bodies("discord")
    embed = discord["embeds"][0]
    assert len(embed["title"]) == 256 and embed["title"].endswith("…")
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    assert len(embed["description"]) <= 4096 and total == 6000 or (total <= 6000 and len(embed["description"]) == 4096)
    assert embed["description"].endswith("…")


def test_429_retry_after_seconds_and_http_date(trackio_dir, hooks):
    rec, base = hooks
    trackio.init(project="wh", name="429")
    t0 = time.monotonic()
    trackio.alert("limited", webhook_url=f"{base}/limit/1/x")
    trackio.alert("limited by date", webhook_url=f"{base}/limitdate/y")
    assert time.monotonic() - t0 < 0.5  # alert() only enqueues
    trackio.finish()
    a, b = rec.times("/limit/1/x"), rec.times("/limitdate/y")
    assert len(a) == 2 and 0.9 <= a[1] - a[0] < 3
    assert len(b) == 2 and 0.9 <= b[1] - b[0] < 4


def test_server_errors_are_retried_then_reported_once(hooks, tmp_path):
    rec, base = hooks
    code = textwrap.dedent(f"""
        import time, trackio
        trackio.init(project="wh", name="fail")
        trackio.alert("boom", webhook_url="{base}/fail/a")
        trackio.alert("bad request", webhook_url="{base}/bad/b")
        trackio.log({{"still": "training"}})
        time.sleep(8)
        trackio.finish()
        print("DONE")
    """)
    done = run_python(code, env={"TRACKIO_DIR": str(tmp_path)})
    assert "DONE" in done.stdout, done.stderr
    attempts = rec.times("/fail/a")
    assert len(attempts) == 4
    gaps = [round(b - a) for a, b in zip(attempts, attempts[1:])]
    assert gaps == [1, 2, 4]
    assert len(rec.times("/bad/b")) == 1  # 4xx other than 429 is final
    assert done.stderr.count(f"Failed to send webhook to {base}/fail/a: HTTP Error 500: Internal Server Error") == 1
    assert done.stderr.count(f"Failed to send webhook to {base}/bad/b: HTTP Error 400: Bad Request") == 1


def test_hanging_and_closed_webhooks_never_block_training(hooks, tmp_path):
    rec, base = hooks
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/closed"
    code = textwrap.dedent(f"""
        import time, trackio
        trackio.init(project="wh", name="hang")
        t0 = time.monotonic()
        trackio.alert("hangs", webhook_url="{base}/hang/a")
        trackio.alert("closed", webhook_url="{closed}")
        for i in range(1000):
            trackio.log({{"i": i}})
        print("LOOP", time.monotonic() - t0)
        t1 = time.monotonic()
        trackio.finish()
        print("FINISH", time.monotonic() - t1)
    """)
    t0 = time.monotonic()
    done = run_python(code, env={"TRACKIO_DIR": str(tmp_path)})
    elapsed = time.monotonic() - t0
    lines = dict(line.split() for line in done.stdout.splitlines() if line.startswith(("LOOP", "FINISH")))
    assert float(lines["LOOP"]) < 1.0, done.stderr
    assert 4.5 <= float(lines["FINISH"]) < 7.0
    assert elapsed < 20
    assert "2 webhook delivery(ies) still pending after 5s; giving up." in done.stderr
    assert db_rows(tmp_path, "wh", "SELECT COUNT(*) FROM metrics") == [(1000,)]


def test_closed_port_is_reported_after_retries(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/closed"
    code = textwrap.dedent(f"""
        import time, trackio
        trackio.init(project="wh", name="closed")
        trackio.alert("closed", webhook_url="{closed}")
        time.sleep(7.5)
        trackio.finish()
    """)
    done = run_python(code, env={"TRACKIO_DIR": str(tmp_path)})
    assert done.returncode == 0
    assert done.stderr.count(f"Failed to send webhook to {closed}: <urlopen error") == 1, done.stderr


def test_queue_bound_drops_with_a_warning(hooks, tmp_path):
    rec, base = hooks
    code = textwrap.dedent(f"""
        import trackio
        trackio.init(project="wh", name="flood")
        for i in range(300):
            trackio.alert(f"a{{i}}", webhook_url="{base}/hang/q")
        import os; os._exit(0)
    """)
    done = run_python(code, env={"TRACKIO_DIR": str(tmp_path)})
    assert done.stderr.count("Webhook queue full; dropping alert") == 300 - 256, done.stderr[-2000:]
    assert "Webhook queue full; dropping alert 'a299'." in done.stderr
