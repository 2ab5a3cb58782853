"""Reading a Space back (``--space``, :func:`trackio.store.remote.fetch_space`) when the Hub misbehaves:
failed or interrupted reads, hangs, rate limits, 5xx and offline mode. Against the local Hub server,
in subprocesses whose environment points huggingface_hub at it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from trackio.store import spacefmt as fmt
from web_fixtures import *  # noqa: F401,F403
from web_fixtures import ok, run_py

SPACE = "tester/rem"
FETCH = "from trackio.store.remote import fetch_space; print(fetch_space({space!r}))"


def _log(project, name, steps):
    import trackio

    run = trackio.init(project=project, name=name, auto_log_cpu=False)
    for s in range(steps):
        trackio.log({"x": s})
    trackio.finish()
    return run


def _synced(hub_env, *runs):
    made = [_log("rem", name, steps) for name, steps in runs]
    ok(run_py(f"import trackio; trackio.sync('rem', space_id={SPACE!r})", hub_env))
    return made


def _counts(folder) -> dict:
    conn = sqlite3.connect(str(Path(folder) / "rem.db"))
    try:
        return dict(conn.execute("SELECT run_name, count(*) FROM metrics GROUP BY run_name"))
    finally:
        conn.close()


def _fetch(env, quick=False):
    code = FETCH.format(space=SPACE)
    if quick:  # short limits so a failing Hub fails the read in seconds
        code = ("import trackio.store.remote as r, trackio.store.hubcall as h\n"
                "r.CALL_WINDOW = 6; h.CALL_TIMEOUT = 2; h.MAX_TRIES = 2\n" + code)
    return run_py(code, env)


def test_a_read_that_fails_part_way_never_duplicates_rows(trackio_dir, hub, hub_env):
    _, r2 = _synced(hub_env, ("r1", 1000), ("r2", 1000))
    hub.fail("GET", rf"/resolve/.*/{fmt.run_dir(r2.id)}/raw/metrics", status=403, times=1000)
    proc = _fetch(hub_env, quick=True)
    assert proc.returncode != 0 and "SpaceUnavailable: Could not download" in proc.stderr, proc.stderr
    hub.rules.clear()
    folder = ok(_fetch(hub_env)).stdout.strip()
    assert _counts(folder) == {"r1": 1000, "r2": 1000}


def test_a_read_killed_part_way_never_duplicates_rows(trackio_dir, hub, hub_env):
    _, r2 = _synced(hub_env, ("r1", 1000), ("r2", 1000))
    hub.fail("GET", rf"/resolve/.*/{fmt.run_dir(r2.id)}/raw/metrics", hang=120, times=1)
    proc = subprocess.Popen([sys.executable, "-c", FETCH.format(space=SPACE)], env=hub_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not hub.requests("GET", rf"/resolve/.*/{fmt.run_dir(r2.id)}/raw/"):  # r1 is in; r2 is being read
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    hub.release()
    folder = ok(_fetch(hub_env)).stdout.strip()
    assert _counts(folder) == {"r1": 1000, "r2": 1000}


def test_a_hanging_hub_fails_the_read_in_bounded_time(trackio_dir, hub, hub_env):
    _synced(hub_env, ("r1", 10))
    hub.fail("GET", rf"^/api/spaces/{SPACE}", hang=300, times=1000)
    t = time.monotonic()
    proc = _fetch(hub_env, quick=True)
    assert time.monotonic() - t < 60
    assert proc.returncode != 0 and f"SpaceUnavailable: Could not read Space '{SPACE}'" in proc.stderr, proc.stderr


def test_rate_limits_and_a_5xx_are_retried(trackio_dir, hub, hub_env):
    r1, = _synced(hub_env, ("r1", 100))
    hub.fail("GET", rf"^/api/spaces/{SPACE}", status=429, headers={"Retry-After": "1"}, times=1)
    hub.fail("GET", r"/tree/|/revision/", status=500, times=1)
    hub.fail("GET", rf"/resolve/.*/{fmt.run_dir(r1.id)}/raw/", status=503, times=1)
    hub.clear_log()
    folder = ok(_fetch(hub_env)).stdout.strip()
    assert _counts(folder) == {"r1": 100}
    info = hub.requests("GET", rf"^/api/spaces/{SPACE}$")
    assert [r["status"] for r in info[:2]] == [429, 200] and info[1]["time"] - info[0]["time"] >= 0.9


def test_offline_mode_reads_the_cached_copy(trackio_dir, hub, hub_env):
    _synced(hub_env, ("r1", 30))
    offline = dict(hub_env, HF_HUB_OFFLINE="1")
    proc = _fetch(offline)
    assert proc.returncode != 0 and "offline mode is enabled (HF_HUB_OFFLINE=1) and there is no cached copy" in proc.stderr
    folder = ok(_fetch(hub_env)).stdout.strip()
    hub.clear_log()
    assert ok(_fetch(offline)).stdout.strip() == folder
    assert hub.log == [] and _counts(folder) == {"r1": 30}
    r = subprocess.run([str(Path(sys.executable).with_name("trackio")), "list", "runs", "--project", "rem",
                        "--space", SPACE, "--json"], capture_output=True, text=True, env=offline)
    assert r.returncode == 0 and json.loads(r.stdout)["runs"] == ["r1"], r.stderr


def test_a_cache_from_the_old_layout_is_rebuilt(trackio_dir, hub, hub_env, tmp_path):
    _synced(hub_env, ("r1", 50))
    folder = Path(ok(_fetch(hub_env)).stdout.strip())
    state = json.loads((folder / "state.json").read_text())
    state.pop("version")
    state["runs"] = {}  # the old layout kept read progress here
    (folder / "state.json").write_text(json.dumps(state))
    ok(_fetch(hub_env))
    assert _counts(folder) == {"r1": 50}


TUI_WATCH = """
import sys, threading, time
import trackio.tui.loader as L
from trackio.store.remote import fetch_space
L.REFRESH_EVERY = 1.0
folder = fetch_space({space!r})
seen = {{}}
def post(message):
    delta = getattr(message, "delta", None)
    for run in (delta.runs if delta is not None else []):
        seen[run.name] = run.status
    for block in (delta.metrics if delta is not None else []):
        seen["rows"] = seen.get("rows", 0) + len(block.steps)
loader = L.Loader("rem", folder, 0.25, post)
threading.Thread(target=loader.run, daemon=True).start()
print("ready", flush=True)
deadline = time.time() + 90
while time.time() < deadline and seen.get("b") != "finished":
    time.sleep(0.1)
loader.stop()
print(seen.get("b"), flush=True)
"""


def test_the_tui_loader_follows_a_space_that_keeps_syncing(trackio_dir, hub, hub_env):
    """``trackio tui --space``: the dashboard's worker re-reads the Space, so a run training on
    another machine keeps updating (a new run here) instead of showing the first snapshot."""
    _synced(hub_env, ("a", 20))
    proc = subprocess.Popen([sys.executable, "-c", TUI_WATCH.format(space=SPACE)], env=hub_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        _log("rem", "b", 15)
        ok(run_py(f"import trackio; trackio.sync('rem', space_id={SPACE!r})", hub_env))
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.strip() == "finished", err
