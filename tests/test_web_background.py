"""``trackio.init(project, space_id=...)``: background sync while training, a bounded last sync at
finish, and a Hub that is down, rate-limiting or hanging never reaching the training loop.

Each training script runs in its own interpreter (huggingface_hub configured by the environment) and
shortens the background intervals by setting the module constants before ``init``.
"""

from __future__ import annotations

import json
import re

from trackio.store import spacefmt as fmt
from trackio.store.reader import open_project
from trackio.store.syncstate import sync_state
from web_fixtures import *  # noqa: F401,F403
from web_fixtures import ok, run_py

SPACE = "tester/bg"

TRAIN = """
import json, time, trackio, trackio.web.background as bg
bg.INTERVAL = {interval}
bg.FINISH_TIMEOUT = {finish}
bg.SQUASH_EVERY = {squash}
run = trackio.init(project="bg", name="r", space_id={space!r}, auto_log_cpu=False)
slowest = 0.0
t_end = time.time() + {seconds}
s = 0
while time.time() < t_end:
    t = time.perf_counter()
    trackio.log({{"loss": 1.0 / (s + 1)}})
    slowest = max(slowest, time.perf_counter() - t)
    s += 1
    if s % 50 == 0:
        time.sleep(0.05)
t = time.perf_counter()
trackio.finish()
print(json.dumps({{"steps": s, "slowest_log": slowest, "finish": time.perf_counter() - t}}))
"""


def _train(env, interval=0.5, finish=20.0, seconds=3.0, space=SPACE, squash=10_000):
    proc = run_py(TRAIN.format(interval=interval, finish=finish, seconds=seconds, space=space, squash=squash), env,
                  timeout=240)
    stats = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    return proc, stats


def _rows_on_space(hub, run_id=None):
    files = hub.files(SPACE)
    total = 0
    for path, blob in files.items():
        if "/raw/metrics-" in path:
            total += len(blob.decode().splitlines())
    return total


def _state(trackio_dir):
    conn = open_project("bg", trackio_dir)
    try:
        return sync_state(conn)
    finally:
        conn.close()


def test_syncs_while_training_and_once_more_at_finish(trackio_dir, hub, hub_env):
    proc, stats = _train(hub_env)
    ok(proc)
    url = f"{hub.url}/spaces/{SPACE}"
    lines = proc.stdout.splitlines()
    assert f"* Syncing project 'bg' to: {url} (please wait...)" in lines
    assert lines[-2] == f"* Static Space deployed: {url}"
    commits = [r for r in hub.requests("POST", r"/commit/") if r["status"] == 200]
    data_commits = {round(c["time"], 1) for c in commits}
    assert len(data_commits) >= 3  # the first sync, at least one during training, the last one
    assert _rows_on_space(hub) == stats["steps"]
    _, index = fmt.unwrap(hub.files(SPACE)[fmt.PROJECT_FILE])
    assert [(r["name"], r["status"]) for r in index["runs"]] == [("r", "finished")]
    assert _state(trackio_dir) == (SPACE, "synced")
    assert "Warning" not in proc.stderr and "warn" not in proc.stderr.lower()


def test_hub_down_keeps_data_pending_warns_once_and_sync_all_pushes_later(trackio_dir, hub, hub_env):
    hub.fail("*", r"/api/", status=503, times=100_000)
    proc, stats = _train(hub_env, interval=0.3, finish=4.0, seconds=2.5)
    ok(proc)
    assert proc.stderr.count("trackio could not sync project 'bg'") == 1, proc.stderr
    assert "the data is kept locally and marked pending" in proc.stderr
    assert "Static Space deployed" not in proc.stdout
    assert stats["slowest_log"] < 0.5 and stats["finish"] < 15
    assert _state(trackio_dir) == (SPACE, "unsynced")
    hub.rules.clear()
    done = ok(run_py("from trackio.web import sync_all; print(sync_all())", hub_env))
    assert f"('bg', '{SPACE}')" in done.stdout
    assert _rows_on_space(hub) == stats["steps"]
    assert _state(trackio_dir) == (SPACE, "synced")
    again = ok(run_py("from trackio.web import sync_all; sync_all()", hub_env))
    assert again.stdout.strip() == "No projects with unsynced data found."


def test_a_hanging_hub_blocks_neither_log_nor_finish(trackio_dir, hub, hub_env):
    hub.fail("POST", r"/commit/", hang=120, times=1000)
    proc, stats = _train(hub_env, interval=0.3, finish=3.0, seconds=2.0)
    hub.release()
    ok(proc)
    assert stats["slowest_log"] < 0.5  # log() never waits for the network
    assert stats["finish"] < 12  # 3 s bound plus the local flush, with room for a loaded machine
    assert proc.stderr.count("trackio could not sync project 'bg'") == 1
    assert "did not finish within 3 s" in proc.stderr
    assert _state(trackio_dir)[1] == "unsynced"


def test_rate_limit_is_waited_out_without_a_warning(trackio_dir, hub, hub_env):
    hub.fail("POST", r"/commit/", status=429, headers={"Retry-After": "1"}, times=2)
    proc, stats = _train(hub_env, interval=0.5, seconds=2.0)
    ok(proc)
    statuses = [r["status"] for r in hub.requests("POST", r"/commit/")]
    assert statuses[:2] == [429, 429] and 200 in statuses
    assert "could not sync" not in proc.stderr
    assert re.search(r"\* Static Space deployed: ", proc.stdout)
    assert _rows_on_space(hub) == stats["steps"]


def test_long_trainings_squash_the_space_history(trackio_dir, hub, hub_env):
    proc, stats = _train(hub_env, interval=0.3, seconds=3.0, squash=2)
    ok(proc)
    assert hub.requests("POST", r"/super-squash/")
    repo = hub.repo(SPACE)
    assert len(repo.commits) < len([r for r in hub.requests("POST", r"/commit/") if r["status"] == 200])
    assert _rows_on_space(hub) == stats["steps"]  # nothing lost by squashing


def test_a_retry_after_longer_than_the_short_finish_budget_is_honoured(trackio_dir, hub, hub_env):
    """finish() cancels the background wait on a 429; its own last sync must still wait what the Hub
    asked (6 s here) rather than give up after the short budget meant for an unreachable Hub."""
    hub.fail("*", r"^/api/", status=429, headers={"Retry-After": "6"}, times=2)
    proc, stats = _train(hub_env, interval=0.5, seconds=1.5, finish=30.0)
    ok(proc)
    assert "could not sync" not in proc.stderr, proc.stderr
    assert re.search(r"\* Static Space deployed: ", proc.stdout)
    assert _rows_on_space(hub) == stats["steps"]
    assert _state(trackio_dir) == (SPACE, "synced")


def test_rate_limits_waited_out_at_finish_print_no_pending_warning(trackio_dir, hub, hub_env):
    hub.fail("*", r"^/api/", status=429, headers={"Retry-After": "3"}, times=3)
    proc, stats = _train(hub_env, interval=0.5, seconds=1.5, finish=30.0)
    ok(proc)
    assert "marked pending" not in proc.stderr, proc.stderr
    assert re.search(r"\* Static Space deployed: ", proc.stdout)
    assert _rows_on_space(hub) == stats["steps"]


def test_a_script_ending_right_after_init_still_syncs_at_exit(trackio_dir, hub, hub_env):
    """No finish(): the exit-time sync runs during interpreter shutdown, when nothing new may be
    imported that registers an atexit hook (huggingface_hub's thread pool does)."""
    proc = ok(run_py(f"import trackio\ntrackio.init(project='bg', name='r', space_id={SPACE!r}, auto_log_cpu=False)\n"
                     f"trackio.log({{'loss': 1.0}})\n", hub_env))
    url = f"{hub.url}/spaces/{SPACE}"
    for line in proc.stdout.splitlines():  # only the lines contract §1.12 lists
        assert line.startswith("* ") or line == 'trackio show --project "bg"', proc.stdout
    assert proc.stdout.splitlines()[-1] == f"* Static Space deployed: {url}", proc.stdout + proc.stderr
    assert proc.stderr == ""
    assert _rows_on_space(hub) == 1
    assert _state(trackio_dir) == (SPACE, "synced")
