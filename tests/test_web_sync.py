"""Sync to a Space and read it back, against the local Hub server with the real huggingface_hub client.

Hub-using code runs in subprocesses whose environment points huggingface_hub at the local server
before it is imported (HF_ENDPOINT, a dummy HF_TOKEN, telemetry off).
"""

from __future__ import annotations

import json
import math
import sqlite3

import yaml

from trackio.store import spacefmt as fmt
from trackio.store.reader import connect_reader, open_project
from trackio.store.syncstate import fingerprint, sync_state
from trackio.web.build import STATIC
from web_fixtures import *  # noqa: F401,F403
from web_fixtures import TOKEN, charts, ok, run_py

SPACE = "tester/sp"


def _log(project, name, steps, start=0, resume="never"):
    import trackio

    run = trackio.init(project=project, name=name, resume=resume, config={"lr": 0.01}, auto_log_cpu=False)
    for s in range(start, start + steps):
        trackio.log({"loss": 1.0 / (1 + s), "acc": math.sin(s)})
    trackio.finish()
    return run


def _sync(env, project="syn", space_id=SPACE, extra=""):
    return run_py(f"import trackio; print(trackio.sync({project!r}, space_id={space_id!r}{extra}))", env)


def _commits(hub):
    return [r for r in hub.requests("POST", r"/commit/") if r["status"] == 200]


def _tables(path):
    conn = sqlite3.connect(path)
    try:
        return {q: conn.execute(q).fetchall() for q in (
            "SELECT run_id, timestamp, run_name, step, metrics FROM metrics ORDER BY id",
            "SELECT run_id, timestamp, run_name, metrics FROM system_metrics ORDER BY id",
            "SELECT run_id, timestamp, run_name, title, text, level, step, alert_id FROM alerts ORDER BY id",
            "SELECT run_id, run_name, config, created_at FROM configs ORDER BY id",
            "SELECT id, name, group_name, status, created_at, finished_at FROM runs ORDER BY rowid")}
    finally:
        conn.close()


def test_sync_creates_a_static_space_and_records_the_marker(trackio_dir, hub, hub_env):
    _log("syn", "a", 300)
    _log("syn", "b", 20)
    proc = ok(_sync(hub_env, space_id="sp", extra=", private=True"))  # bare name: the token owner's namespace
    url = f"{hub.url}/spaces/{SPACE}"
    assert proc.stdout.splitlines() == [f"* Syncing project 'syn' to: {url} (please wait...)",
                                        f"* Static Space deployed: {url}", SPACE]
    repo = hub.repo(SPACE)
    assert repo.private and repo.sdk == "static"
    files = hub.files(SPACE)
    front = yaml.safe_load(files["README.md"].decode().split("---")[1])
    assert front["sdk"] == "static" and front["app_file"] == "index.html" and front["tags"] == ["trackio"]
    assert files["index.html"] == (STATIC / "index.html").read_bytes()
    assert files["vendor/uPlot.iife.min.js"] == (STATIC / "vendor/uPlot.iife.min.js").read_bytes()
    _, index = fmt.unwrap(files[fmt.PROJECT_FILE])
    assert [r["name"] for r in index["runs"]] == ["a", "b"]
    assert all(len(f) < 10_000_000 for f in files.values())
    assert all(len(c["ops"]) <= 50 for c in _commits(hub))
    conn = open_project("syn", trackio_dir)
    try:
        assert sync_state(conn) == (SPACE, "synced")
        marker = json.loads(conn.execute("SELECT value FROM project_metadata WHERE key='last_sync'").fetchone()[0])
        assert marker["space_id"] == SPACE and marker["fingerprint"] == fingerprint(conn)
    finally:
        conn.close()
    hub.clear_log()
    ok(_sync(hub_env))  # nothing changed: nothing committed
    assert _commits(hub) == []


def test_incremental_sync_uploads_only_the_new_chunks(trackio_dir, hub, hub_env):
    run = _log("syn", "a", 2500)
    ok(_sync(hub_env))
    before = hub.files(SPACE)
    _log("syn", "a", 1000, start=2500, resume="allow")
    hub.clear_log()
    ok(_sync(hub_env))
    assert len(hub.requests("GET", r"/tree/")) >= 3  # the listing was followed through its Link pages
    sent = {path for c in _commits(hub) for kind, path, _ in c["ops"] if kind == "file"}
    deleted = {path for c in _commits(hub) for kind, path, _ in c["ops"] if kind == "delete"}
    rdir = fmt.run_dir(run.id)
    assert {p for p in sent if "/raw/" in p} == {f"{rdir}/raw/metrics-0000002500-0000003500.jsonl"}
    assert sent & set(before) <= {fmt.PROJECT_FILE, fmt.run_file(run.id)}  # nothing sent twice but the indexes
    assert {p.rsplit("/", 1)[1] for p in sent if p.endswith(".js") and "/m1-" in p} == \
        {"m1-0004.js", "m1-0005.js", "m1-0006-open.js"}  # 3,500 rows: 1,750 buckets of 2
    assert deleted == {f"{rdir}/m1-0004-open.js"}
    new_bytes = sum(size for c in _commits(hub) for _, _, size in c["ops"])
    assert new_bytes < sum(len(v) for v in before.values()) / 2
    lines = hub.files(SPACE)[f"{rdir}/raw/metrics-0000002500-0000003500.jsonl"].decode().splitlines()
    assert len(lines) == 1000 and json.loads(lines[0])[0] == 2500


def test_429_and_500_are_retried_honouring_retry_after(trackio_dir, hub, hub_env):
    _log("syn", "a", 50)
    hub.fail("POST", r"/commit/", status=429, headers={"Retry-After": "2"}, times=1)
    hub.fail("POST", r"/commit/", status=500, times=1)
    ok(_sync(hub_env))
    tries = hub.requests("POST", r"/commit/")
    assert [t["status"] for t in tries[:3]] == [429, 500, 200]
    assert tries[1]["time"] - tries[0]["time"] >= 1.8  # waited as asked
    conn = open_project("syn", trackio_dir)
    try:
        assert sync_state(conn)[1] == "synced"
    finally:
        conn.close()


def test_a_failing_explicit_sync_raises_and_keeps_data_pending(trackio_dir, hub, hub_env):
    _log("syn", "a", 50)
    hub.fail("POST", r"/commit/", status=503, times=1000)
    proc = run_py("import trackio, trackio.web.sync as s; s.SYNC_TIMEOUT = 4\n"
                  f"trackio.sync('syn', space_id={SPACE!r})", hub_env)
    assert proc.returncode != 0
    assert "SyncError: HTTP 503" in proc.stderr
    conn = open_project("syn", trackio_dir)
    try:
        assert sync_state(conn) == (None, "local")  # never recorded as synced
    finally:
        conn.close()


def test_a_generated_space_id_is_kept_for_the_next_try(trackio_dir, hub, hub_env):
    _log("syn", "a", 5)
    hub.fail("POST", r"/commit/", status=500, times=1000)
    proc = run_py("import trackio, trackio.web.sync as s; s.SYNC_TIMEOUT = 2\ntrackio.sync('syn')", hub_env)
    assert proc.returncode != 0
    conn = open_project("syn", trackio_dir)
    try:
        space_id, state = sync_state(conn)
    finally:
        conn.close()
    assert state == "unsynced" and space_id.startswith("tester/syn-") and len(space_id) == len("tester/syn-") + 6
    hub.rules.clear()
    assert ok(run_py("import trackio; print(trackio.sync('syn'))", hub_env)).stdout.splitlines()[-1] == space_id


def test_a_commit_from_another_machine_in_between_restarts_the_sync(trackio_dir, hub, hub_env):
    _log("syn", "a", 40)
    hub.fail("POST", r"/commit/", status=412, times=1,
             body={"error": "A commit has happened since. Please refresh and try again."})
    ok(_sync(hub_env))
    statuses = [r["status"] for r in hub.requests("POST", r"/commit/")]
    assert statuses[0] == 412 and statuses[1:] and set(statuses[1:]) == {200}
    assert len(hub.requests("GET", r"/tree/")) == 2  # listed again after the conflict
    _, index = fmt.unwrap(hub.files(SPACE)[fmt.PROJECT_FILE])
    assert [r["rows"] for r in index["runs"]] == [40]


def test_sync_without_xet(trackio_dir, hub, hub_env):
    _log("syn", "a", 40)
    ok(_sync(dict(hub_env, HF_HUB_DISABLE_XET="1")))
    assert not hub.requests(None, r"xet|lfs")
    _, index = fmt.unwrap(hub.files(SPACE)[fmt.PROJECT_FILE])
    assert [r["rows"] for r in index["runs"]] == [40]


def test_offline_mode_fails_at_once(trackio_dir, hub, hub_env):
    _log("syn", "a", 5)
    proc = run_py(f"import trackio; trackio.sync('syn', space_id={SPACE!r})", dict(hub_env, HF_HUB_OFFLINE="1"))
    assert proc.returncode != 0 and "offline mode is enabled" in proc.stderr
    assert hub.log == []


def test_the_token_is_never_printed_or_uploaded(trackio_dir, hub, hub_env, tmp_path):
    _log("syn", "a", 30)
    outputs = [ok(_sync(hub_env))]
    hub.fail("POST", r"/commit/", status=500, times=1000)
    _log("syn", "a", 5, start=30, resume="allow")
    outputs.append(run_py("import trackio, trackio.web.sync as s; s.SYNC_TIMEOUT = 2\n"
                          f"trackio.sync('syn', space_id={SPACE!r})", hub_env))
    for proc in outputs:
        assert TOKEN not in proc.stdout + proc.stderr
    for path in (tmp_path / "hub-store").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for path in trackio_dir.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_two_machines_push_runs_to_one_space(trackio_dir, tmp_path, hub, hub_env):
    _log("syn", "machine-a", 40)
    ok(_sync(hub_env))
    other = dict(hub_env, TRACKIO_DIR=str(tmp_path / "machine-b"))
    ok(run_py("import trackio\ntrackio.init(project='syn', name='machine-b', auto_log_cpu=False)\n"
              "for s in range(25): trackio.log({'loss': s})\ntrackio.finish()", other))
    ok(_sync(other))
    _log("syn", "machine-a", 10, start=40, resume="allow")
    ok(_sync(hub_env))
    _, index = fmt.unwrap(hub.files(SPACE)[fmt.PROJECT_FILE])
    assert sorted((r["name"], r["rows"]) for r in index["runs"]) == [("machine-a", 50), ("machine-b", 25)]


def test_fetch_space_rebuilds_the_project_and_updates_incrementally(trackio_dir, hub, hub_env):
    import trackio

    run = trackio.init(project="syn", name="a", config={"lr": 0.5, "nested": {"k": [1, 2]}}, auto_log_cpu=False)
    for s in range(120):
        trackio.log({"loss": 1 / (s + 1), "text": f"é{s}", "bad": float("nan")})
    trackio.log_system({"cpu/percent": 3.5})
    trackio.alert("Careful", "<b>x</b>", level="info")
    trackio.finish()
    ok(_sync(hub_env))
    fetch = "from trackio.store.remote import fetch_space; print(fetch_space('https://huggingface.co/spaces/tester/sp/tree/main'))"
    folder = ok(run_py(fetch, hub_env)).stdout.strip()
    from pathlib import Path

    assert sorted(p.name for p in Path(folder).glob("*.db")) == ["syn.db"]
    assert _tables(Path(folder) / "syn.db") == _tables(trackio_dir / "syn.db")

    trackio.init(project="syn", name="a", resume="allow", auto_log_cpu=False)
    for s in range(120, 150):
        trackio.log({"loss": 1 / (s + 1)})
    trackio.finish()
    ok(_sync(hub_env))
    hub.clear_log()
    ok(run_py(fetch, hub_env))
    raw_gets = [r["path"] for r in hub.requests("GET", r"/resolve/.*/raw/")]
    assert raw_gets == [f"/spaces/{SPACE}/resolve/{hub.repo(SPACE).head['oid']}/{fmt.run_dir(run.id)}"
                        f"/raw/metrics-0000000120-0000000150.jsonl"]
    assert _tables(Path(folder) / "syn.db") == _tables(trackio_dir / "syn.db")
    hub.clear_log()
    ok(run_py(fetch, hub_env))  # same commit: only the revision is asked for
    assert [r["path"] for r in hub.log] == [f"/api/spaces/{SPACE}"]
    ok(run_py("from trackio.store.remote import fetch_space; fetch_space('tester/sp', max_age=600)", hub_env))
    assert len(hub.log) == 1  # fresh enough: the Hub is not asked at all
    conn = connect_reader(Path(folder) / "syn.db")
    try:
        from trackio.store.runs import project_runs

        assert [(r.name, r.status) for r in project_runs(conn)] == [("a", "finished")]
    finally:
        conn.close()


def test_fetch_space_errors_and_private_spaces(trackio_dir, hub, hub_env):
    fetch = "from trackio.store.remote import fetch_space; fetch_space({!r})"
    proc = run_py(fetch.format("tester/nothing"), hub_env)
    assert proc.returncode != 0 and "SpaceNotFound: Space 'tester/nothing' has no trackio data." in proc.stderr
    ok(run_py("from huggingface_hub import HfApi; import os\n"
              "HfApi(endpoint=os.environ['HF_ENDPOINT']).create_repo('tester/plain', repo_type='space', space_sdk='static')",
              hub_env))
    proc = run_py(fetch.format("spaces/tester/plain"), hub_env)
    assert "Space 'tester/plain' has no trackio data." in proc.stderr
    proc = run_py(fetch.format("https://tester-plain.static.hf.space"), hub_env)
    assert "ValueError: Cannot tell the Space id" in proc.stderr
    _log("syn", "a", 10)
    ok(_sync(hub_env, extra=", private=True"))
    no_token = {k: v for k, v in hub_env.items() if k != "HF_TOKEN"}
    proc = run_py(fetch.format(SPACE), no_token)
    assert "Space 'tester/sp' has no trackio data." in proc.stderr
    ok(run_py(f"from trackio.store.remote import fetch_space; fetch_space({SPACE!r}, token={TOKEN!r})", no_token))


def test_refuses_a_gradio_space_and_another_project(trackio_dir, hub, hub_env):
    ok(run_py("from huggingface_hub import HfApi; import os\n"
              "HfApi(endpoint=os.environ['HF_ENDPOINT']).create_repo('tester/gr', repo_type='space', space_sdk='gradio')",
              hub_env))
    _log("syn", "a", 5)
    proc = _sync(hub_env, space_id="tester/gr")
    assert "Space 'tester/gr' uses the 'gradio' SDK" in proc.stderr
    _log("other", "a", 5)
    ok(_sync(hub_env))
    proc = _sync(hub_env, project="other")
    assert "holds the trackio project 'syn', not 'other'" in proc.stderr


def test_synced_space_page_renders_in_chromium(trackio_dir, hub, hub_env, page):
    _log("syn", "a", 2500)
    _log("syn", "<img src=x onerror=alert(1)>", 7)
    ok(_sync(hub_env))
    page.goto(f"{hub.url}/_fake/spaces/{SPACE}/")
    page.wait_for_function("() => window.trackioCharts && window.trackioCharts().length >= 2", timeout=30_000)
    got = charts(page)[("m", "loss")]
    assert got["points"] == {"a": 1250, "<img src=x onerror=alert(1)>": 7}
    assert page.trackio_events == []


def test_raw_chunks_stay_few_and_contiguous(trackio_dir, tmp_path):
    """Many small syncs: small files merge, every row is kept exactly once, in order."""
    import trackio
    from trackio.web.export import DirSink
    from trackio.web.raw import MERGE_AT, build_raw
    from trackio.store.runs import project_runs

    sink = DirSink(tmp_path / "space")
    run = trackio.init(project="raw", name="r", auto_log_cpu=False)
    for round_ in range(3 * MERGE_AT):
        for s in range(7):
            trackio.log({"i": round_ * 7 + s})
        run._writer.flush(30)
        conn = open_project("raw", trackio_dir)
        try:
            (row,) = project_runs(conn)
            listed = build_raw(conn, row, sink, fmt.run_dir(run.id))["metrics"]
        finally:
            conn.close()
        assert len(listed) <= 2 * (MERGE_AT - 1) + 1  # at most 7 small files per size tier (7 and 56 rows here)
        assert [c[1] for c in listed] == [0] + [c[2] for c in listed[:-1]] and listed[-1][2] == (round_ + 1) * 7
        on_disk = sorted(p.name for p in (tmp_path / "space" / fmt.run_dir(run.id) / "raw").glob("metrics-*"))
        assert on_disk == sorted(c[0] for c in listed)
    trackio.finish()
    values = []
    for name, _, _ in listed:
        text = (tmp_path / "space" / fmt.run_dir(run.id) / "raw" / name).read_text()
        values += [json.loads(line)[2]["i"] for line in text.splitlines()]
    assert values == list(range(3 * MERGE_AT * 7))


def test_a_running_run_reads_as_running_from_the_space(trackio_dir, hub, hub_env):
    import trackio
    from pathlib import Path

    from trackio.store.remote import _refresh_heartbeats
    from trackio.store.runs import project_runs

    run = trackio.init(project="syn", name="live", auto_log_cpu=False)
    for s in range(20):
        trackio.log({"loss": s})
    run._writer.flush(30)
    ok(_sync(hub_env))
    folder = Path(ok(run_py("from trackio.store.remote import fetch_space; print(fetch_space('tester/sp'))",
                            hub_env)).stdout.strip())
    trackio.finish()

    def status():
        conn = connect_reader(folder / "syn.db")
        try:
            return [(r.name, r.status) for r in project_runs(conn)]
        finally:
            conn.close()

    assert status() == [("live", "running")]
    conn = sqlite3.connect(str(folder / "syn.db"))
    with conn:  # the machine went quiet: its last heartbeat, as the Space reported it, is old
        key = f"remote_run:{run.id}"
        seen = json.loads(conn.execute("SELECT value FROM project_metadata WHERE key=?", (key,)).fetchone()[0])
        seen["heartbeat_at"] = "2020-01-01T00:00:00.000000+00:00"
        conn.execute("UPDATE project_metadata SET value=? WHERE key=?", (json.dumps(seen), key))
    conn.close()
    _refresh_heartbeats(folder / "syn.db")
    assert status() == [("live", "crashed")]


def test_sync_in_background_returns_the_id_at_once(trackio_dir, hub, hub_env):
    _log("syn", "a", 10)
    code = ("import time, trackio\nfrom trackio.store.reader import open_project\nfrom trackio.store.syncstate import sync_state\n"
            "t = time.time(); sid = trackio.sync('syn', space_id='tester/sp', run_in_background=True)\n"
            "print(sid, time.time() - t < 5)\n"
            "while time.time() - t < 120:\n"
            "    c = open_project('syn'); s = sync_state(c); c.close()\n"
            "    if s[1] == 'synced': break\n"
            "    time.sleep(0.2)\n"
            "print(s)")
    proc = ok(run_py(code, hub_env))
    assert "tester/sp True" in proc.stdout and "('tester/sp', 'synced')" in proc.stdout


def test_an_upload_refused_by_the_xet_path_fails_at_once(trackio_dir, hub, hub_env):
    """A file over 10 MB takes the Hub's Xet path; hf_xet reports the Hub's 4xx as a ConnectionError,
    which must not be retried until the sync times out."""
    import time

    import trackio

    trackio.init(project="syn", name="a", config={"blob": "x" * 11_000_000}, auto_log_cpu=False)
    trackio.log({"loss": 1.0})
    trackio.finish()
    t = time.monotonic()
    proc = run_py("import trackio, trackio.web.sync as s; s.SYNC_TIMEOUT = 90\n"
                  f"trackio.sync('syn', space_id={SPACE!r})", hub_env)
    assert proc.returncode != 0 and "SyncError" in proc.stderr and "404" in proc.stderr, proc.stderr[-2000:]
    assert time.monotonic() - t < 45  # failed without retrying to the 90 s limit


def test_force_repairs_whatever_differs_on_the_space_raw_files_included(trackio_dir, hub, hub_env):
    run = _log("syn", "a", 2500)
    ok(_sync(hub_env))
    good = hub.files(SPACE)
    rdir = fmt.run_dir(run.id)
    raw, full = f"{rdir}/raw/metrics-0000000000-0000002500.jsonl", f"{rdir}/m1-0000.js"
    assert raw in good and full in good
    ok(run_py("from huggingface_hub import HfApi, CommitOperationAdd as Add\n"
              f"HfApi().create_commit({SPACE!r}, [Add({raw!r}, b'garbage\\n'), Add({full!r}, b'garbage'), "
              f"Add('index.html', b'<h1>defaced</h1>')], commit_message='tamper', repo_type='space')", hub_env))
    hub.clear_log()
    ok(_sync(hub_env, extra=", force=True"))
    now = hub.files(SPACE)
    assert {p: now[p] == good[p] for p in (raw, full, "index.html")} == {raw: True, full: True, "index.html": True}
    sent = {path for c in _commits(hub) for kind, path, _ in c["ops"] if kind == "file"}
    assert {raw, full, "index.html"} <= sent and f"{rdir}/m1-0001.js" not in sent  # only what differed


def test_generated_space_ids_are_names_the_hub_accepts(trackio_dir, hub, hub_env):
    names = ["日本語", "résumé 🚀", "-lead", "x" * 120]
    for name in names:
        _log(name, "a", 3)
    proc = ok(run_py(f"import trackio\nfor p in {names!r}: print('ID', trackio.sync(p))", hub_env))
    ids = [line[3:] for line in proc.stdout.splitlines() if line.startswith("ID ")]
    assert [i.split("/")[1].rsplit("-", 1)[0] for i in ids] == ["trackio", "resume", "lead", "x" * 89]
    for name, space_id in zip(names, ids):
        assert hub.repo(space_id) is not None
        conn = open_project(name, trackio_dir)
        try:
            assert sync_state(conn) == (space_id, "synced")
        finally:
            conn.close()


def test_an_id_the_hub_refused_is_not_kept(trackio_dir, hub, hub_env):
    _log("syn", "a", 3)
    hub.fail("POST", r"^/api/repos/create", status=400, times=1, body={"error": "Invalid repo name"})
    proc = run_py("import trackio; trackio.sync('syn')", hub_env)
    assert proc.returncode != 0 and "HTTP 400" in proc.stderr
    conn = open_project("syn", trackio_dir)
    try:
        assert sync_state(conn) == (None, "local")  # nothing stored: `sync --all` will not retry it forever
    finally:
        conn.close()


def test_space_ids_and_messages_are_consistent(trackio_dir, hub, hub_env):
    _log("syn", "a", 3)
    proc = run_py("import trackio\ntry:\n    trackio.sync('nope')\nexcept Exception as e:\n"
                  "    print(type(e).__name__, e)", hub_env)
    assert proc.stdout.strip() == "ProjectNotFound Project 'nope' not found."
    trackio_cli = str(__import__("pathlib").Path(__import__("sys").executable).with_name("trackio"))
    import subprocess

    r = subprocess.run([trackio_cli, "sync", "--project", "syn", "--space-id", "http://x/y z"], capture_output=True,
                       text=True, env=hub_env)
    assert (r.returncode, r.stdout) == (1, "") and r.stderr.startswith("Error: Cannot tell the Space id from"), r
    r = subprocess.run([trackio_cli, "sync", "--project", "syn", "--space-id", "bad id!"], capture_output=True,
                       text=True, env=hub_env)
    assert (r.returncode, r.stdout) == (1, "") and r.stderr.startswith("Error: Invalid Space id 'bad id!'"), r
    r = subprocess.run([trackio_cli, "sync", "--project", "syn", "--space-id", f"https://hf.co/spaces/{SPACE}/tree/main"],
                       capture_output=True, text=True, env=hub_env)
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == f"* Static Space deployed: {hub.url}/spaces/{SPACE}", r
    hub.fail("GET", r"^/api/whoami", status=503, headers={"Retry-After": "600"}, times=10)
    proc = run_py("import trackio; trackio.sync('syn', space_id='other')", hub_env)
    assert "the Hub could not be reached (HTTP 503" in proc.stderr and "HF_TOKEN" not in proc.stderr
    hub.rules.clear()
    proc = ok(run_py("import trackio\nrun = trackio.init(project='syn', name='b', space_id='mydash', auto_log_cpu=False)\n"
                     "trackio.log({'x': 1})\ntrackio.finish()\nprint('URL', run.url)", hub_env))
    url = f"{hub.url}/spaces/tester/mydash"
    assert f"* Static Space deployed: {url}" in proc.stdout and f"URL {url}" in proc.stdout
    proc = run_py("import trackio\ntrackio.init(project='syn', name='c', space_id='bad id!', auto_log_cpu=False)\n"
                  "trackio.finish()", hub_env)
    assert proc.returncode == 0 and "UserWarning: Invalid Space id 'bad id!'" in proc.stderr


def test_raw_rows_synced_a_few_at_a_time_are_resent_only_a_few_times(trackio_dir, tmp_path):
    """Size-tiered merging of small raw files: syncing one row at a time 300 times sends each row a
    handful of times (not once per merge of an ever-growing tail) and keeps the file count small."""
    import trackio
    from trackio.store.runs import project_runs
    from trackio.web.export import DirSink
    from trackio.web.raw import build_raw

    class Counting(DirSink):
        rows_sent = 0

        def put(self, path, data):
            Counting.rows_sent += data.count(b"\n")
            super().put(path, data)

    sink = Counting(tmp_path / "space")
    run = trackio.init(project="raw", name="r", auto_log_cpu=False)
    for i in range(300):
        trackio.log({"i": i})
        run._writer.flush(30)
        conn = open_project("raw", trackio_dir)
        try:
            (row,) = project_runs(conn)
            listed = build_raw(conn, row, sink, fmt.run_dir(run.id))["metrics"]
        finally:
            conn.close()
        assert len(listed) <= 3 * 7 + 1 and listed[-1][2] == i + 1
    trackio.finish()
    assert Counting.rows_sent <= 4 * 300, Counting.rows_sent
