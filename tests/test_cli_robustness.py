"""The CLI where a fresh user's environment is unusual (defects found by testing a clean install):
read-only data, listing without side files, stdout that cannot be written, odd ``COLUMNS``, Ctrl-C
in a long query, ``sync`` without network, ``NO_COLOR`` help on a terminal, control characters and
invalid UTF-8 in stored strings, repeated column names in ``query``.

Everything goes through the installed ``trackio`` script in a subprocess, against files written by
the real API (altered with plain sqlite3 where a test needs bytes the API never writes).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from cli_support import TRACKIO, cli, run_in_pty, write_with_api

Q = "auto_log_cpu=False, auto_log_gpu=False"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A data directory holding ``keys.db``: one cleanly finished run (no -wal/-shm files left)."""
    d = tmp_path_factory.mktemp("finished") / "data"
    write_with_api(d, f"import trackio\ntrackio.init(project='keys', name='r1', {Q})\n"
                      "for i in range(5):\n    trackio.log({'x': i})\n"
                      "trackio.alert('Check', text='look', level='warn')\ntrackio.finish()\n")
    assert sorted(p.name for p in d.iterdir()) == ["keys.db"]
    return d


def _copy(finished: Path, to: Path) -> Path:
    to.mkdir(parents=True)
    shutil.copyfile(finished / "keys.db", to / "keys.db")
    return to


# ------------------------------------------------------------------ 1. a read-only location

def _read_only_runner(d: Path):
    """``run(*args) -> Result``-like tuples for trackio reading ``d`` where it cannot create files:
    a read-only bind mount (root, in a private mount namespace) or a 0o555 directory (other users)."""
    env = {**os.environ, "TRACKIO_DIR": str(d), "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    if os.geteuid() != 0:
        d.chmod(0o555)
        return lambda *args: subprocess.run([TRACKIO, *args], capture_output=True, text=True, env=env, timeout=120)
    if shutil.which("unshare") is None:
        pytest.skip("root without unshare(1): cannot make a read-only location")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind '{d}' '{d}' && "
                            f"mount -o remount,ro,bind '{d}' '{d}' && ! touch '{d}/probe'"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot bind-mount read-only here: {probe.stderr.strip()}")

    def run(*args):
        script = (f"mount --bind '{d}' '{d}' && mount -o remount,ro,bind '{d}' '{d}' && "
                  'exec "$0" "$@"')
        return subprocess.run(["unshare", "-m", "sh", "-c", script, TRACKIO, *args], capture_output=True,
                              text=True, env=env, timeout=120)
    return run


def test_a_finished_project_on_a_read_only_location_is_readable(finished, tmp_path):
    d = _copy(finished, tmp_path / "ro")
    run = _read_only_runner(d)
    try:
        r = run("list", "projects", "--json")
        assert (r.returncode, r.stderr) == (0, "") and '"keys"' in r.stdout
        r = run("get", "project", "--project", "keys", "--json")
        assert r.returncode == 0, r.stderr
        assert '"num_runs": 1' in r.stdout and '"last_activity": 4' in r.stdout
        r = run("query", "project", "--project", "keys", "--sql", "select count(*) n from metrics", "--json")
        assert r.returncode == 0 and '"n": 5' in r.stdout, r.stderr
        r = run("list", "alerts", "--project", "keys", "--json")
        assert r.returncode == 0 and '"title": "Check"' in r.stdout, r.stderr
        assert sorted(p.name for p in d.iterdir()) == ["keys.db"]
    finally:
        d.chmod(0o755)


# ------------------------------------------------------------------ 2. listing creates no side files

def test_listing_projects_leaves_no_wal_or_shm_files(finished, tmp_path):
    d = _copy(finished, tmp_path / "data")
    (d / "junk.db").write_bytes(b"not a database, only text\n" * 40)
    r = cli("list", "projects", "--json", data_dir=d)
    assert r.rc == 0 and r.json() == {"projects": ["keys"]}
    assert "junk.db" in r.err and "not a SQLite database" in r.err  # still checked through SQLite
    assert sorted(p.name for p in d.iterdir()) == ["junk.db", "keys.db"]


# ------------------------------------------------------------------ 3. stdout that cannot be written

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("list", "projects", "--json"), ("list", "runs", "--project", "keys"),
                                  ("get", "metric", "--project", "keys", "--run", "r1", "--metric", "x", "--json"),
                                  ("--help",)])
def test_a_full_disk_on_stdout_is_one_error_line(finished, args):
    env = {**os.environ, "TRACKIO_DIR": str(finished)}
    with open("/dev/full", "wb") as full:
        p = subprocess.run([TRACKIO, *args], stdout=full, stderr=subprocess.PIPE, env=env, timeout=120)
    assert p.returncode == 1
    assert p.stderr.decode() == "Error: could not write output: No space left on device.\n"


def test_a_closed_stdout_is_one_error_line(finished):
    env = {**os.environ, "TRACKIO_DIR": str(finished)}
    p = subprocess.run(["/bin/sh", "-c", '"$0" list projects --json >&-', TRACKIO], capture_output=True, env=env,
                       timeout=120)
    assert p.returncode == 1
    assert p.stderr.decode() == "Error: could not write output: standard output is closed.\n"


# ------------------------------------------------------------------ 4. COLUMNS that make no sense

@pytest.mark.parametrize("columns", ["abc", "-5", "0", "1", "5", "10"])
def test_bad_or_tiny_columns_keep_every_cell(finished, tmp_path, columns):
    d = tmp_path / "data"
    write_with_api(d, f"import trackio\nfor n in ('alpha', 'beta', 'gamma'):\n"
                      f"    trackio.init(project='cols', name=n, {Q})\n    trackio.log({{'x': 1}})\n"
                      "    trackio.finish()\n")
    r = cli("list", "runs", "--project", "cols", data_dir=d, env={"COLUMNS": columns})
    assert r.rc == 0 and r.err == ""
    body = r.out.splitlines()[3:]  # title, header, rule
    assert [line.split()[0] for line in body if line[:1].strip()] == ["alpha", "beta", "gamma"]
    assert r.out.count("finished") == 3
    r = cli("list", "alerts", "--project", "keys", data_dir=finished, env={"COLUMNS": columns})
    assert r.rc == 0 and r.err == "" and "WARN" in r.out and "Check" in r.out


# ------------------------------------------------------------------ 5. Ctrl-C in a long query

@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the query start")
def test_ctrl_c_stops_a_long_query(tmp_path):
    d = tmp_path / "data"
    write_with_api(d, f"import trackio\ntrackio.init(project='big', name='r', {Q})\n"
                      "for i in range(2000):\n    trackio.log({'x': i})\ntrackio.finish()\n")
    env = {**os.environ, "TRACKIO_DIR": str(d)}
    db = str((d / "big.db").resolve())
    p = subprocess.Popen([TRACKIO, "query", "project", "--project", "big", "--sql",
                          "select count(*) from metrics a, metrics b, metrics c, metrics d"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:  # the project file is open: Python runs
            try:
                if any(os.readlink(f"/proc/{p.pid}/fd/{fd}") == db for fd in os.listdir(f"/proc/{p.pid}/fd")):
                    break
            except OSError:
                pass
            time.sleep(0.05)
        time.sleep(0.5)  # into the statement
        assert p.poll() is None, "the query ended before it could be interrupted"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)  # without the fix it runs for many minutes
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130
    assert out == b"" and b"Traceback" not in err


# ------------------------------------------------------------------ 6. sync without network

def test_sync_without_network_fails_within_seconds(finished, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: every connection is refused
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRACKIO_SPACE_ID")}
    env.update({"TRACKIO_DIR": str(_copy(finished, tmp_path / "data")), "HF_ENDPOINT": f"http://127.0.0.1:{port}",
                "HF_TOKEN": "hf_dummy_test_token_0123456789", "HF_HOME": str(tmp_path / "hf-home"),
                "HF_HUB_DISABLE_TELEMETRY": "1", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "NO_COLOR": "1"})
    t0 = time.monotonic()
    p = subprocess.run([TRACKIO, "sync", "--project", "keys", "--space-id", "tester/sp"], capture_output=True,
                       text=True, env=env, timeout=300)  # without the fix: 600 s of retries
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith(f"Error: could not reach 127.0.0.1:{port}: ") and p.stderr.count("\n") == 1
    assert "refused" in p.stderr.lower() and "Traceback" not in p.stderr
    assert time.monotonic() - t0 >= 5  # retried (1 + 2 + 4 s, ±20 %) before giving up


# ------------------------------------------------------------------ 7. NO_COLOR help on a terminal

@pytest.mark.parametrize("args", [["--help"], [], ["list"], ["get", "metric", "--help"]])
def test_no_color_help_on_a_terminal_has_no_ansi(args):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PY_COLORS")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "100"})
    coloured = run_in_pty(args, env)
    assert "\x1b[" in coloured and "Usage" in coloured  # help on a terminal is styled...
    plain = run_in_pty(args, {**env, "NO_COLOR": "1"})
    assert "Usage" in plain and "\x1b" not in plain  # ...and has no escape at all under NO_COLOR


# ------------------------------------------------------------------ 8. control characters in stored strings

CTL = f'''
import trackio
trackio.init(project="ctl", name="r\\x1b[31mred", config={{"note": "a\\x1b[2Jb"}}, {Q})
trackio.log({{"v": "\\x1b[2J", "esc\\x1b[31m": 1.0, "nl\\nname": 2, "c1\\x9bx": 3}})
trackio.alert("t\\x1b]0;title\\x07", text="x\\ny", level="warn")
trackio.finish()
'''
RUN = "r\x1b[31mred"


@pytest.fixture(scope="module")
def ctl(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("ctl") / "data"
    write_with_api(d, CTL)
    return d


def _no_controls(text: str) -> None:
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) <= 0x9f for c in text), repr(text)


@pytest.mark.parametrize("args, shown", [
    (["list", "runs", "--project", "ctl"], ["r\\x1b[31mred"]),
    (["get", "run", "--project", "ctl", "--run", RUN],
     ["Run: r\\x1b[31mred", "  - esc\\x1b[31m", "  - nl\\nname", "  - c1\\x9bx", "  note: a\\x1b[2Jb"]),
    (["get", "metric", "--project", "ctl", "--run", RUN, "--metric", "v"], ["\\x1b[2J"]),
    (["get", "snapshot", "--project", "ctl", "--run", RUN, "--step", "0"], ["esc\\x1b[31m:", "nl\\nname:", "\\x1b[2J"]),
    (["list", "metrics", "--project", "ctl", "--run", RUN], ["  - esc\\x1b[31m", "  - nl\\nname", "  - c1\\x9bx"]),
    (["list", "alerts", "--project", "ctl"], ["t\\x1b]0;title\\x07", "x\\ny"]),
    (["query", "project", "--project", "ctl", "--sql", "select char(27, 155) c from metrics"], ["\\x1b\\x9b"]),
])
def test_control_characters_are_escaped_in_human_output(ctl, args, shown):
    r = cli(*args, data_dir=ctl)
    assert r.rc == 0 and r.err == ""
    _no_controls(r.out)
    for text in shown:
        assert text in r.out


def test_control_characters_in_error_lines_and_json(ctl):
    r = cli("get", "metric", "--project", "ctl", "--run", RUN, "--metric", "no\nsuch\x1b[2J", data_dir=ctl)
    assert r.rc == 1 and r.out == ""
    assert r.err == "Error: Metric 'no\\nsuch\\x1b[2J' not found in run 'r\\x1b[31mred' of project 'ctl'.\n"
    r = cli("list", "alerts", "--project", "ctl", "--since", "x\ny", data_dir=ctl)
    assert r.rc == 2 and "Error: Invalid value for '--since': 'x\\ny' is not an ISO 8601" in r.err
    _no_controls(r.err)
    assert r.err.splitlines()[-1].startswith("Error: Invalid value for '--since'")
    r = cli("get", "metric", "--project", "ctl", "--run", RUN, "--metric", "v", "--json", data_dir=ctl)
    assert r.rc == 0 and '"run": "r\\u001b[31mred"' in r.out and '"value": "\\u001b[2J"' in r.out


# ------------------------------------------------------------------ 9. repeated column names in query

def test_query_with_repeated_column_names_keeps_every_cell(finished):
    r = cli("query", "project", "--project", "keys", "--sql", "select 1 a, 2 a, 3 A", "--json", data_dir=finished)
    doc = r.json()
    assert r.rc == 0 and doc["columns"] == ["a", "a_2", "A"] and doc["rows"] == [{"a": 1, "a_2": 2, "A": 3}]
    r = cli("query", "project", "--project", "keys", "--sql", "select 1 a, 2 a, 3 a_2", "--json", data_dir=finished)
    assert r.json()["columns"] == ["a", "a_3", "a_2"] and r.json()["rows"] == [{"a": 1, "a_3": 2, "a_2": 3}]
    r = cli("query", "project", "--project", "keys", "--sql", "select 1 a, 2 a", data_dir=finished)
    assert r.out == "Query returned 1 row(s).\na | a_2\n--+----\n1 | 2  \n"


# ------------------------------------------------------------------ 11. invalid UTF-8 in a TEXT column

def test_invalid_utf8_text_reads_with_replacement_characters(finished, tmp_path):
    d = _copy(finished, tmp_path / "data")
    conn = sqlite3.connect(d / "keys.db")
    conn.execute("UPDATE runs SET name = CAST(x'72ff31' AS TEXT)")  # r, an invalid byte, 1
    conn.execute("UPDATE metrics SET run_name = CAST(x'72ff31' AS TEXT)")
    conn.execute("""UPDATE metrics SET metrics = CAST(x'7b2278223a2261ff227d' AS TEXT) WHERE step = 2""")  # {"x":"a\xff"}
    conn.execute("UPDATE alerts SET title = CAST(x'43ff' AS TEXT)")
    conn.commit()
    conn.close()
    run_id = cli("query", "project", "--project", "keys", "--sql", "select id from runs", "--json",
                 data_dir=d).json()["rows"][0]["id"]
    r = cli("list", "runs", "--project", "keys", "--json", data_dir=d)
    assert r.rc == 0 and r.json()["runs"] == ["r\ufffd1"], r.err
    r = cli("get", "metric", "--project", "keys", "--run", run_id, "--metric", "x", "--json", data_dir=d)
    assert r.rc == 0 and [v["value"] for v in r.json()["values"]] == [0, 1, "a\ufffd", 3, 4], r.err
    for args in (["get", "project", "--project", "keys"], ["get", "run", "--project", "keys", "--run", run_id],
                 ["list", "alerts", "--project", "keys", "--json"],
                 ["get", "snapshot", "--project", "keys", "--run", run_id, "--step", "2"],
                 ["query", "project", "--project", "keys", "--sql", "select run_name, metrics from metrics"]):
        r = cli(*args, data_dir=d)
        assert r.rc == 0 and "\ufffd" in r.out, (args, r.err)
