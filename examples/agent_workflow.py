"""An autonomous agent babysitting a training run through trackio's CLI.

The agent launches training in the background, polls ``trackio list alerts --json --since <last seen>``
every ``--interval`` seconds, and for each new alert reads ``trackio get snapshot --around <step>`` to see
what the metrics did around it. It stops the training on an ERROR alert. It only uses the CLI's JSON,
exactly as an LLM agent would through its shell tool, so it works on any machine that can run
``trackio``, next to the training or on a copy of the project.

    python examples/agent_workflow.py            # babysits trackio's demo LR range test (no torch needed)
    python examples/agent_workflow.py --project digits --run lr-finder -- \\
        python examples/train_digits.py --project digits --name lr-finder --schedule range --pace 0.01

``--since`` is strict ("after this instant"), so passing the newest timestamp seen returns each alert
once. One writer process commits its alerts in call order, so none can appear later with an earlier
timestamp; with several processes writing one project that could happen within the 0.25 s flush
window, so the agent also remembers ``alert_id``s. ``--report FILE`` appends one JSON line per alert
(the alert, the snapshot, whether training was still running) for whoever supervises the agent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

TRACKIO = os.environ.get("TRACKIO_CLI") or str(Path(sys.executable).with_name("trackio"))


class CliError(RuntimeError):
    pass


def cli(*args: str) -> dict:
    """Run ``trackio <args> --json`` and return its document; raise CliError with its ``Error:`` line."""
    exe = TRACKIO if Path(TRACKIO).exists() else "trackio"
    proc = subprocess.run([exe, *args, "--json"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise CliError(proc.stderr.strip() or f"trackio exited with {proc.returncode}")
    return json.loads(proc.stdout)


def new_alerts(project: str, run: str, since: str) -> list[dict]:
    """Alerts of ``run`` strictly after ``since``, oldest first (the CLI lists newest first)."""
    try:
        doc = cli("list", "alerts", "--project", project, "--run", run, "--since", since)
    except CliError as e:
        if "not found" in str(e):  # the training has not created the project yet
            return []
        raise
    return list(reversed(doc["alerts"]))


def values_at(snapshot: dict, step: int) -> dict:
    """``{metric: value}`` at exactly ``step`` from a ``get snapshot`` document (last row wins)."""
    out = {}
    for name, rows in snapshot["metrics"].items():
        for row in rows:
            if row["step"] == step:
                out[name] = row["value"]
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Babysit a training run through trackio's CLI.")
    p.add_argument("--project", default="agent-demo")
    p.add_argument("--run", default="lr-range-test", help="the run name the training uses")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    p.add_argument("--window", type=int, default=5, help="steps on each side of an alert to look at")
    p.add_argument("--keep-going", action="store_true", help="do not stop the training on ERROR alerts")
    p.add_argument("--report", type=Path, help="append one JSON line per alert to this file")
    p.add_argument("command", nargs=argparse.REMAINDER, help="training command after '--'")
    args = p.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        args.command = [sys.executable, "-m", "trackio.demo", "--project", args.project, "--name", args.run,
                        "--kind", "lr-range-test", "--pace", "0.01"]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # Only alerts raised after launch count, even if older runs of that name fired some.
    last_seen = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    seen: set[str] = set()
    log = tempfile.NamedTemporaryFile(prefix="agent-training-", suffix=".log", delete=False)
    print(f"agent: launching {' '.join(args.command)} (output: {log.name})", flush=True)
    training = subprocess.Popen(args.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    stopped = False
    while True:
        finished = training.poll() is not None  # decide before polling, so the last poll sees everything
        for alert in new_alerts(args.project, args.run, last_seen):
            last_seen = alert["timestamp"]
            if alert["alert_id"] in seen:
                continue
            seen.add(alert["alert_id"])
            snapshot = cli("get", "snapshot", "--project", args.project, "--run", args.run,
                           "--around", str(alert["step"]), "--window", str(args.window))
            at_step = values_at(snapshot, alert["step"])
            print(f"agent: [{alert['level'].upper()}] {alert['title']} at step {alert['step']}: {alert['text']}",
                  flush=True)
            print(f"agent:   metrics at step {alert['step']}: {json.dumps(at_step)}", flush=True)
            if args.report:
                with args.report.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"alert": alert, "snapshot": snapshot,
                                        "training_running": training.poll() is None}) + "\n")
            if alert["level"] == "error" and not args.keep_going and training.poll() is None:
                print("agent: stopping the training", flush=True)
                training.terminate()
                stopped = True
        if finished:
            break
        time.sleep(args.interval)
    code = training.wait()
    print(f"agent: training exited with {code}{' (stopped by the agent)' if stopped else ''}; "
          f"{len(seen)} alert(s) handled", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
