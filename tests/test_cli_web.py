"""The web commands through the installed ``trackio`` script: export, sync (against the local Hub
server), status, ``--space`` reads and ``show --web``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from web_fixtures import *  # noqa: F401,F403 - hub, hub_env fixtures

TRACKIO = str(Path(sys.executable).with_name("trackio"))
SPACE = "tester/cli-space"


def cli(env, *args, timeout=180):
    return subprocess.run([TRACKIO, *args], capture_output=True, text=True, env=env, timeout=timeout)


def _log(env, name, steps, resume="never"):
    code = (f"import trackio\ntrackio.init(project='webp', name={name!r}, resume={resume!r}, auto_log_cpu=False)\n"
            f"for s in range({steps}): trackio.log({{'loss': 1.0 / (s + 1)}})\n"
            f"trackio.alert('checkpoint', 'saved', level='info')\ntrackio.finish()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def test_export_command(trackio_dir, hub_env, tmp_path):
    _log(hub_env, "a", 50)
    out = tmp_path / "site"
    r = cli(hub_env, "export", "--project", "webp", "--out", str(out))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.startswith("* Exported project 'webp' (1 run(s), ")
    assert (out / "index.html").is_file() and any((out / "data").iterdir())
    r = cli(hub_env, "export", "--project", "nope", "--out", str(out))
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Error: Project 'nope' not found.\n")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data").mkdir()
    (foreign / "data" / "mine.txt").write_text("keep me")
    r = cli(hub_env, "export", "--project", "webp", "--out", str(foreign))
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and (foreign / "data" / "mine.txt").exists()


def test_sync_status_and_space_reads(trackio_dir, hub, hub_env):
    _log(hub_env, "a", 120)
    r = cli(hub_env, "sync")
    assert (r.returncode, r.stderr) == (1, "Error: Must provide either --project or --all.\n")
    r = cli(hub_env, "sync", "--all", "--project", "webp")
    assert (r.returncode, r.stderr) == (1, "Error: Cannot use --all and --project together.\n")
    r = cli(hub_env, "sync", "--project", "nope", "--space-id", SPACE)
    assert (r.returncode, r.stderr) == (1, "Error: Project 'nope' not found.\n")

    r = cli(hub_env, "sync", "--project", "webp", "--space-id", SPACE)
    url = f"{hub.url}/spaces/{SPACE}"
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"* Syncing project 'webp' to: {url} (please wait...)",
                                     f"* Static Space deployed: {url}"]
    assert "1 trackio project(s) synced to Spaces [OK]" in cli(hub_env, "status").stdout

    _log(hub_env, "b", 30)
    status = cli(hub_env, "status").stdout
    assert "with unsynced changes [WARNING]:\n    - webp" in status
    r = cli(hub_env, "sync", "--all")
    assert r.returncode == 0 and f"* Static Space deployed: {url}" in r.stdout, r.stderr
    assert "synced to Spaces [OK]" in cli(hub_env, "status").stdout

    # read the Space back from another data directory, as a colleague on another machine would
    remote_env = dict(hub_env, TRACKIO_DIR=str(trackio_dir.parent / "elsewhere"))
    r = cli(remote_env, "list", "runs", "--project", "webp", "--space", SPACE, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runs"] == ["a", "b"]
    r = cli(remote_env, "get", "metric", "--project", "webp", "--run", "a", "--metric", "loss", "--step", "9",
            "--space", f"{hub.url}/spaces/{SPACE}", "--json")
    assert r.returncode == 0, r.stderr
    assert [v["value"] for v in json.loads(r.stdout)["values"]] == [0.1]
    r = cli(remote_env, "list", "alerts", "--project", "webp", "--space", SPACE, "--json")
    assert [a["title"] for a in json.loads(r.stdout)["alerts"]] == ["checkpoint", "checkpoint"]
    r = cli(remote_env, "list", "projects", "--space", "tester/nothing-here", "--json")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Error: Space 'tester/nothing-here' has no trackio data.\n")
    assert not (trackio_dir.parent / "elsewhere").exists()  # reading a Space writes nothing locally


def _serve(env, *args):
    """Start ``trackio show --web ARGS``; returns ``(process, url)`` once it serves."""
    proc = subprocess.Popen([TRACKIO, "show", "--web", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    line = ""
    deadline = time.monotonic() + 60
    while "http://127.0.0.1:" not in line and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
    assert "http://127.0.0.1:" in line, proc.stderr.read()
    return proc, line[line.index("http://"):].split()[0], line


def test_show_web_serves_the_export(trackio_dir, hub_env):
    _log(hub_env, "a", 20)
    proc, url, _ = _serve(hub_env, "--project", "webp", "--port", "0")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.status == 200 and b"<html" in resp.read().lower()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0  # Ctrl+C is how a user stops the server: a clean exit


def test_show_web_ports_default_project_and_clean_exit(trackio_dir, hub_env, tmp_path):
    import socket

    r = cli(hub_env, "show", "--web")
    assert (r.returncode, r.stdout) == (1, "") and r.stderr.startswith("Error: No projects found in "), r.stderr
    _log(hub_env, "a", 5)
    env = dict(hub_env, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    r = cli(env, "show", "--web", "--port", "99999")
    assert r.returncode == 2 and "99999" in r.stderr and "Traceback" not in r.stderr, r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli(env, "show", "--web", "--project", "webp", "--port", str(port))
    assert (r.returncode, r.stdout) == (1, "") and \
        r.stderr == f"Error: Port {port} is already in use; choose another with --port (0 picks a free one).\n"
    other = dict(env, TRACKIO_DIR=str(tmp_path / "two"))
    for project in ("older", "newer"):
        done = subprocess.run([sys.executable, "-c", f"import trackio; trackio.init(project={project!r}, "
                               "auto_log_cpu=False); trackio.log({'x': 1}); trackio.finish()"], env=other)
        assert done.returncode == 0
        time.sleep(0.05)
    proc, url, line = _serve(other, "--port", "0")  # no --project: the most recently written one
    try:
        assert "Serving project 'newer'" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0 and list((tmp_path / "tmp").glob("trackio-web-*")) == []  # SIGTERM cleans up
