"""End-to-end tests of the ``trackio`` CLI (contract §4) through the installed console script.

One session-scoped data directory holds projects written by the real logging API (in a subprocess),
an upstream-shaped file, a project without runs and a corrupt ``.db``; each test runs ``trackio …``
against it and checks stdout (strict JSON, byte for byte where the contract fixes the bytes), stderr
and the exit code.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from cli_support import build_upstream, cli, expected_json, rows, run_in_pty, write_with_api

DATA = r'''
import trackio
q = dict(auto_log_cpu=False, auto_log_gpu=False)
run = trackio.init(project="vision-exp", name="baseline",
                   config={"lr": 0.0003, "batch_size": 32, "model": {"name": "resnet", "depth": 50}}, **q)
for i in range(50):
    m = {"train": {"loss": 1.0 / (i + 1), "accuracy": i / 50}, "lr": 0.0003 * (1 - i / 50)}
    if i % 10 == 0:
        m["val/loss"] = 2.0 / (i + 1)
    if i == 20:
        m["train"]["loss"] = float("nan")
    if i == 21:
        m["train"]["loss"] = float("-inf")
    trackio.log(m)
    if i == 25:
        trackio.alert("Halfway", level="info")
    if i == 40:
        run.alert("LR small", text="lr below 1e-5", level="WARN")
trackio.log({"media": trackio.Table(columns=["a", "b"], data=[[1, "x"]]), "seq": [1, 2.5, "z"], "flag": True,
             "none": None, "label": "café \"q\"\n"}, step=60)
run.alert("Boom", text="exploded", level="error", step=60)
trackio.log_system({"cpu": {"percent": 10.0}, "mem/used_gb": 1.5})
trackio.log_system({"cpu/percent": 12.5})
trackio.finish()
trackio.init(project="vision-exp", name="résumé 🚀 run 2", **q)
for i in range(5):
    trackio.log({"train/loss": 0.5 - i / 100})
trackio.finish()
trackio.init(project="steps", name="back", **q)
trackio.log({"x": 0}); trackio.log({"x": 10}, step=10); trackio.log({"x": 11}); trackio.log({"x": 5}, step=5)
trackio.log({"x": 12}); trackio.log({"x": 120}, step=12); trackio.log({"x": -3}, step=-3)
trackio.log({"x": 2 ** 62}, step=2 ** 62)
trackio.finish()
for k in range(2):
    trackio.init(project="dups", name="same", **q)
    trackio.log({"k": k})
    trackio.finish()
trackio.init(project="my.model", name="only", config={"_hidden": 1} if False else None, **q)
trackio.finish()

from trackio.store.paths import data_dir
from trackio.store.schema import connect_writer, ensure_schema
conn = connect_writer(data_dir() / "empty.db")
ensure_schema(conn)
conn.close()
'''


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "trackio-data"
    d.mkdir()
    write_with_api(d, DATA)
    build_upstream(d / "upstream.db")
    (d / "corrupt.db").write_bytes(b"this is not a database at all, just text\n" * 20)
    (d / "notes.txt").write_text("not a project")
    vis = d / "vision-exp.db"
    base_id = rows(vis, "SELECT id FROM runs WHERE name='baseline'")[0][0]
    ts = dict(rows(vis, "SELECT step, timestamp FROM metrics WHERE run_id=? ORDER BY id", (base_id,)))
    alerts = rows(vis, "SELECT title, timestamp FROM alerts ORDER BY id")
    dup_ids = [r[0] for r in rows(d / "dups.db", "SELECT id FROM runs ORDER BY created_at")]
    return SimpleNamespace(dir=d, base_id=base_id, ts=ts, alerts=dict(alerts), dup_ids=dup_ids)


def run(data, *args, **kw):
    return cli(*args, data_dir=data.dir, **kw)


def ok_json(data, *args):
    r = run(data, *args, "--json")
    assert r.rc == 0, r.err
    doc = r.json()
    assert r.out == expected_json(doc)  # exactly one document, contract formatting, UTF-8
    return doc, r


def fails(r, rc: int, message: str | None = None):
    assert r.rc == rc, (r.rc, r.out, r.err)
    assert r.out == ""
    if message is not None:
        assert r.err == f"Error: {message}\n"


# ---------------------------------------------------------------- program, help, usage errors

def test_no_arguments_prints_help_and_exits_0(data):
    r = run(data)
    assert r.rc == 0 and "Usage" in r.out and "list" in r.out and "query" in r.out


def test_a_group_without_a_command_prints_its_help(data):
    for group in ("list", "get", "query"):
        r = run(data, group)
        assert r.rc == 0 and "Usage: trackio " + group in r.out and r.err == ""


def test_version_and_help_on_every_level(data):
    import trackio

    assert run(data, "--version").out == f"trackio {trackio.__version__}\n"
    for args in (["--help"], ["list", "--help"], ["get", "--help"], ["query", "--help"],
                 ["get", "metric", "--help"], ["list", "alerts", "--help"], ["status", "--help"]):
        r = run(data, *args)
        assert r.rc == 0 and "Usage" in r.out, args
    assert "--window" in run(data, "get", "snapshot", "--help").out


@pytest.mark.parametrize("args, needle", [
    (["--json", "list", "projects"], "No such option"),
    (["freeze"], "No such command 'freeze'"),
    (["list", "spaces"], "No such command 'spaces'"),
    (["get", "trace"], "No such command 'trace'"),
    (["list", "runs"], "Missing option '--project'"),
    (["get", "metric", "--project", "vision-exp", "--run", "baseline"], "Missing option '--metric'"),
    (["get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr", "--step", "x"], "'--step'"),
    (["get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr", "--around", "1",
      "--window", "-1"], "'--window'"),
    (["list", "alerts", "--project", "vision-exp", "--level", "bogus"],
     "Invalid value for '--level': 'bogus' is not one of 'info', 'warn', 'error'."),
    (["list", "alerts", "--project", "vision-exp", "--since", "not-a-date"],
     "Invalid value for '--since': 'not-a-date' is not an ISO 8601 timestamp."),
    (["get", "snapshot", "--project", "vision-exp", "--run", "baseline", "--at-time", "2026-13-01"],
     "Invalid value for '--at-time': '2026-13-01' is not an ISO 8601 timestamp."),
    (["get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr", "--step", "1",
      "--around", "2"], "'--around'"),
    (["get", "snapshot", "--project", "vision-exp", "--run", "baseline", "--around", "1",
      "--at-time", "2026-01-01"], "'--at-time'"),
    (["sync", "--project", "p", "--sdk", "bogus"], "'--sdk'"),
    (["list", "alerts", "--project", "vision-exp", "--since", "9999-12-31T23:59:59-01:00"],
     "Invalid value for '--since': '9999-12-31T23:59:59-01:00' is outside the range of dates"),
    (["get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr",
      "--at-time", "0001-01-01T00:00:00+01:00"], "'--at-time': '0001-01-01T00:00:00+01:00' is outside"),
])
def test_usage_errors_exit_2_naming_the_option(data, args, needle):
    r = run(data, *args)
    assert r.rc == 2 and r.out == "", (r.rc, r.out, r.err)
    assert "Usage: trackio" in r.err and needle in r.err
    assert "Traceback" not in r.err


def test_usage_error_messages_say_what_is_accepted(data):
    r = run(data, "list", "alerts", "--project", "vision-exp", "--since", "yesterday")
    assert "YYYY-MM-DD" in r.err and "offset" in r.err
    r = run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr",
            "--around", "1", "--window", "-3")
    assert "0" in r.err.splitlines()[-1]
    r = run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr",
            "--step", "1", "--at-time", "2026-01-01")
    assert "--step N" in r.err and "--around N" in r.err


# ---------------------------------------------------------------- list projects / runs

def test_list_projects_skips_corrupt_file_with_a_warning_naming_it(data):
    doc, r = ok_json(data, "list", "projects")
    assert doc == {"projects": ["dups", "empty", "mymodel", "steps", "upstream", "vision-exp"]}
    assert "corrupt.db" in r.err and "not a SQLite database" in r.err
    human = run(data, "list", "projects")
    assert human.rc == 0
    assert human.out == "Projects:\n" + "".join(f"  - {p}\n" for p in doc["projects"])


def test_list_projects_in_a_missing_or_empty_directory(tmp_path):
    for d in (tmp_path / "missing", tmp_path):
        r = cli("list", "projects", "--json", data_dir=d)
        assert r.rc == 0 and r.out == '{\n  "projects": []\n}\n'
        assert cli("list", "projects", data_dir=d).out == "No projects found.\n"
    assert not (tmp_path / "missing").exists()  # the CLI never creates the directory


def test_corrupt_project_is_a_clear_error_naming_the_file(data):
    for args in (["list", "runs", "--project", "corrupt"], ["get", "project", "--project", "corrupt", "--json"],
                 ["query", "project", "--project", "corrupt", "--sql", "select 1"]):
        r = run(data, *args)
        fails(r, 1)
        assert r.err.startswith("Error: Could not read project 'corrupt': ") and "corrupt.db" in r.err


def test_list_runs_creation_order_duplicates_and_utf8(data):
    doc, r = ok_json(data, "list", "runs", "--project", "vision-exp")
    assert doc["project"] == "vision-exp" and doc["runs"] == ["baseline", "résumé 🚀 run 2"]
    assert "résumé 🚀 run 2".encode() in r.raw  # not \u-escaped
    assert [d["status"] for d in doc["run_details"]] == ["finished", "finished"]
    assert doc["run_details"][0]["id"] == data.base_id
    doc, _ = ok_json(data, "list", "runs", "--project", "dups")
    assert doc["runs"] == ["same", "same"]
    human = run(data, "list", "runs", "--project", "vision-exp")
    assert human.out.startswith("Runs in 'vision-exp':\n") and data.base_id in human.out
    assert "résumé 🚀 run 2" in human.out and "finished" in human.out


def test_project_names_are_canonicalised_but_echoed_as_given(data):
    doc, _ = ok_json(data, "list", "runs", "--project", "my.model")
    assert doc["project"] == "my.model" and doc["runs"] == ["only"]
    fails(run(data, "list", "runs", "--project", "nope"), 1, "Project 'nope' not found.")
    fails(run(data, "list", "runs", "--project", "Vision-Exp", "--json"), 1, "Project 'Vision-Exp' not found.")


def test_project_without_runs(data):
    doc, _ = ok_json(data, "list", "runs", "--project", "empty")
    assert doc["runs"] == []
    assert run(data, "list", "runs", "--project", "empty").out == "No runs in 'empty' found.\n"
    doc, _ = ok_json(data, "get", "project", "--project", "empty")
    assert doc == {"project": "empty", "num_runs": 0, "runs": [], "last_activity": None}
    assert run(data, "get", "project", "--project", "empty").out == \
        "Project: empty\nNumber of runs: 0\n\nNo runs found.\n"


# ---------------------------------------------------------------- run resolution, metrics lists

def test_list_metrics_by_name_and_by_id(data):
    doc, _ = ok_json(data, "list", "metrics", "--project", "vision-exp", "--run", "baseline")
    names = ["flag", "label", "lr", "media", "none", "seq", "train/accuracy", "train/loss", "val/loss"]
    assert doc == {"project": "vision-exp", "run": "baseline", "run_id": data.base_id, "metrics": names}
    by_id, _ = ok_json(data, "list", "metrics", "--project", "vision-exp", "--run", data.base_id)
    assert by_id == doc
    human = run(data, "list", "metrics", "--project", "vision-exp", "--run", "baseline").out
    assert human == "Metrics for 'baseline' in 'vision-exp':\n" + "".join(f"  - {n}\n" for n in names)
    assert run(data, "list", "metrics", "--project", "my.model", "--run", "only").out == \
        "No metrics for 'only' in 'my.model' found.\n"


def test_unknown_run_is_an_error(data):
    for cmd in (["list", "metrics"], ["get", "run"], ["get", "snapshot", "--step", "1"],
                ["get", "metric", "--metric", "lr"], ["list", "system-metrics"], ["get", "system-metric"]):
        fails(run(data, *cmd, "--project", "vision-exp", "--run", "ghost", "--json"), 1,
              "Run 'ghost' not found in project 'vision-exp'.")


def test_ambiguous_run_name_uses_newest_and_notes_it_on_stderr(data):
    doc, r = ok_json(data, "get", "run", "--project", "dups", "--run", "same")
    assert doc["run_id"] == data.dup_ids[1]
    assert r.err == (f"Note: 2 runs in project 'dups' are named 'same'; using the newest (id {data.dup_ids[1]}). "
                     "Pass a run id to --run to choose another.\n")
    older, r = ok_json(data, "get", "metric", "--project", "dups", "--run", data.dup_ids[0], "--metric", "k")
    assert r.err == "" and older["values"][0]["value"] == 0 and older["run"] == "same"


def test_list_system_metrics(data):
    doc, _ = ok_json(data, "list", "system-metrics", "--project", "vision-exp", "--run", "baseline")
    assert doc == {"project": "vision-exp", "run": "baseline", "run_id": data.base_id,
                   "system_metrics": ["cpu/percent", "mem/used_gb"]}
    assert run(data, "list", "system-metrics", "--project", "vision-exp", "--run", "baseline").out == \
        "System Metrics:\n  - cpu/percent\n  - mem/used_gb\n"
    assert run(data, "list", "system-metrics", "--project", "steps", "--run", "back").out == \
        "No system metrics found.\n"


# ---------------------------------------------------------------- alerts

def test_alerts_newest_first_with_every_key(data):
    doc, _ = ok_json(data, "list", "alerts", "--project", "vision-exp")
    assert list(doc) == ["project", "run", "level", "since", "alerts"]
    assert (doc["run"], doc["level"], doc["since"]) == (None, None, None)
    assert [a["title"] for a in doc["alerts"]] == ["Boom", "LR small", "Halfway"]
    boom, lr, half = doc["alerts"]
    assert list(boom) == ["timestamp", "run", "run_id", "title", "text", "level", "step", "alert_id"]
    assert (boom["level"], boom["step"], boom["text"]) == ("error", 60, "exploded")
    assert (lr["level"], lr["step"]) == ("warn", 40)
    assert (half["level"], half["step"], half["text"]) == ("info", 25, None)
    assert len(half["alert_id"]) == 32 and half["run_id"] == data.base_id
    same, _ = ok_json(data, "get", "alerts", "--project", "vision-exp")
    assert same == doc


def test_alert_filters(data):
    doc, _ = ok_json(data, "list", "alerts", "--project", "vision-exp", "--level", "WARN")
    assert doc["level"] == "warn" and [a["title"] for a in doc["alerts"]] == ["LR small"]
    doc, _ = ok_json(data, "list", "alerts", "--project", "vision-exp", "--run", data.base_id, "--level", "Info")
    assert doc["run"] == "baseline" and [a["title"] for a in doc["alerts"]] == ["Halfway"]
    doc, r = ok_json(data, "get", "alerts", "--project", "vision-exp", "--run", "nobody")
    assert doc["run"] == "nobody" and doc["alerts"] == [] and r.err == ""
    assert run(data, "list", "alerts", "--project", "steps").out == "No alerts found.\n"


def _instant(ts: str) -> datetime:
    return datetime.fromisoformat(ts).astimezone(timezone.utc)


def _forms(ts: str) -> dict[str, str]:
    """The same instant written in the time-zone forms the CLI must accept."""
    t = _instant(ts)
    frac = t.strftime(".%f")
    return {
        "Z": t.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z",
        "+02:00": (t + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + frac + "+02:00",
        "-05:00": (t - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S") + frac + "-05:00",
        "-0500": (t - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S") + frac + "-0500",
        "space": t.strftime("%Y-%m-%d %H:%M:%S") + frac,
    }


def test_since_compares_instants_in_any_time_zone(data):
    cut = data.alerts["LR small"]
    for name, form in _forms(cut).items():
        doc, _ = ok_json(data, "list", "alerts", "--project", "vision-exp", "--since", form)
        assert doc["since"] == form
        assert [a["title"] for a in doc["alerts"]] == ["Boom"], name  # strictly after
    day = _instant(cut).date()
    doc, _ = ok_json(data, "list", "alerts", "--project", "vision-exp", "--since", day.isoformat())
    assert len(doc["alerts"]) == 3
    doc, _ = ok_json(data, "list", "alerts", "--project", "vision-exp", "--since", (day + timedelta(days=1)).isoformat())
    assert doc["alerts"] == []


def test_alerts_human(data):
    out = run(data, "list", "alerts", "--project", "vision-exp").out
    assert out.startswith("Found 3 alert(s):\n\n")
    for text in ("Timestamp", "Level", "ERROR", "WARN", "INFO", "Boom", "exploded", "lr below 1e-5", "60"):
        assert text in out


# ---------------------------------------------------------------- get project / run

def test_get_project(data):
    doc, _ = ok_json(data, "get", "project", "--project", "vision-exp")
    assert list(doc) == ["project", "num_runs", "runs", "last_activity"]
    assert doc["num_runs"] == 2 and doc["last_activity"] == 60
    assert [r["name"] for r in doc["runs"]] == ["baseline", "résumé 🚀 run 2"]
    assert list(doc["runs"][0]) == ["id", "name", "created_at", "status"]
    created = rows(data.dir / "vision-exp.db", "SELECT created_at FROM runs WHERE id=?", (data.base_id,))[0][0]
    assert doc["runs"][0]["created_at"] == created
    out = run(data, "get", "project", "--project", "vision-exp").out
    assert out.startswith("Project: vision-exp\nNumber of runs: 2\n\nRuns:\n")
    assert data.base_id in out and out.endswith("\nLast activity (max step): 60\n")
    doc, _ = ok_json(data, "get", "project", "--project", "steps")
    assert doc["last_activity"] == 2 ** 62


def test_get_run(data):
    doc, _ = ok_json(data, "get", "run", "--project", "vision-exp", "--run", "baseline")
    assert list(doc) == ["project", "run", "run_id", "num_logs", "metrics", "config", "last_step", "status"]
    assert doc["run_id"] == data.base_id and doc["num_logs"] == 51 and doc["last_step"] == 60
    assert doc["status"] == "finished"
    assert list(doc["config"]) == ["lr", "batch_size", "model", "_Username", "_Created", "_Group"]
    assert doc["config"]["model"] == {"name": "resnet", "depth": 50}
    out = run(data, "get", "run", "--project", "vision-exp", "--run", "baseline").out
    head = (f"Project: vision-exp\nRun: baseline\nRun ID: {data.base_id}\nStatus: finished\n"
            "Number of logs: 51\nLast step: 60\n\nMetrics:\n  - flag\n")
    assert out.startswith(head)
    assert out.endswith('\nConfig:\n  lr: 0.0003\n  batch_size: 32\n  model: {"name": "resnet", "depth": 50}\n')
    assert "_Created" not in out and "{'" not in out
    out = run(data, "get", "run", "--project", "my.model", "--run", "only").out
    assert "Last step" not in out and "No metrics found.\n" in out and out.endswith("Config:\n  (no config)\n")


# ---------------------------------------------------------------- get metric

def _expected_values(data, project: str, run_id: str, metric: str, where: str = "", params=()):
    found = []
    for ts, step, raw in rows(data.dir / f"{project}.db",
                              f"SELECT timestamp, step, metrics FROM metrics WHERE run_id=? {where} ORDER BY id",
                              (run_id, *params)):
        m = json.loads(raw)
        if metric in m:
            found.append({"timestamp": ts, "step": step, "value": m[metric]})
    return found


def test_get_metric_is_byte_exact_in_logging_order(data):
    for metric in ("train/loss", "val/loss", "lr", "media", "seq", "flag", "none", "label"):
        r = run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", metric, "--json")
        assert r.rc == 0, r.err
        doc = {"project": "vision-exp", "run": "baseline", "run_id": data.base_id, "metric": metric,
               "values": _expected_values(data, "vision-exp", data.base_id, metric)}
        assert r.out == expected_json(doc), metric
    doc = strict_json_of(run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline",
                             "--metric", "train/loss", "--json"))
    assert doc["values"][20]["value"] == "NaN" and doc["values"][21]["value"] == "-Infinity"
    assert doc["values"][0]["value"] == 1.0 and len(doc["values"]) == 50


def strict_json_of(r):
    assert r.rc == 0, r.err
    return r.json()


def test_get_metric_keeps_explicit_steps_and_64_bit_values(data):
    run_id = rows(data.dir / "steps.db", "SELECT id FROM runs")[0][0]
    doc, r = ok_json(data, "get", "metric", "--project", "steps", "--run", "back", "--metric", "x")
    assert [v["step"] for v in doc["values"]] == [0, 10, 11, 5, 12, 12, -3, 2 ** 62]
    assert doc["values"][-1]["value"] == 2 ** 62 and b"4611686018427387904" in r.raw
    assert r.out == expected_json({"project": "steps", "run": "back", "run_id": run_id, "metric": "x",
                                   "values": _expected_values(data, "steps", run_id, "x")})


def test_get_metric_windows(data):
    base = ["get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "train/loss"]
    doc, _ = ok_json(data, *base, "--step", "0")
    assert [v["step"] for v in doc["values"]] == [0]
    doc, _ = ok_json(data, *base, "--around", "0")
    assert [v["step"] for v in doc["values"]] == list(range(0, 11))
    doc, _ = ok_json(data, *base, "--around", "30", "--window", "2")
    assert [v["step"] for v in doc["values"]] == [28, 29, 30, 31, 32]
    doc, _ = ok_json(data, *base, "--step", "100000")
    assert doc["values"] == []
    assert run(data, *base, "--step", "100000").out == "No metric values found.\n"
    doc, _ = ok_json(data, *base, "--step", str(2 ** 70))
    assert doc["values"] == []
    fails(run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "nope", "--json"),
          1, "Metric 'nope' not found in run 'baseline' of project 'vision-exp'.")
    fails(run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "nope",
              "--step", "1"), 1, "Metric 'nope' not found in run 'baseline' of project 'vision-exp'.")
    fails(run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "train"), 1)


def test_at_time_matches_instants_in_any_time_zone(data):
    ts30 = data.ts[30]
    base = ["get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "lr"]
    for name, form in _forms(ts30).items():
        doc, _ = ok_json(data, *base, "--at-time", form, "--window", "0")
        assert [v["step"] for v in doc["values"]] == [30], name
    snap, _ = ok_json(data, "get", "snapshot", "--project", "vision-exp", "--run", "baseline",
                      "--at-time", _forms(ts30)["+02:00"], "--window", "0")
    assert list(snap)[-2:] == ["at_time", "window"] and snap["at_time"] == _forms(ts30)["+02:00"]
    assert snap["window"] == 0 and [v["step"] for v in snap["metrics"]["lr"]] == [30]


def test_get_metric_human(data):
    r = run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "train/loss",
            "--around", "20", "--window", "1")
    assert r.out.startswith("Found 3 value(s):\n\n")
    assert "NaN" in r.out and "-Infinity" in r.out and "\n19 " in r.out and "0.05 " in r.out
    r = run(data, "get", "metric", "--project", "vision-exp", "--run", "baseline", "--metric", "media")
    assert '{"_type": "trackio.table"' in r.out and "{'" not in r.out


# ---------------------------------------------------------------- snapshot

def test_snapshot_modes(data):
    base = ["get", "snapshot", "--project", "vision-exp", "--run", "baseline"]
    doc, _ = ok_json(data, *base, "--step", "20")
    assert list(doc) == ["project", "run", "run_id", "metrics", "step"] and doc["step"] == 20
    assert list(doc["metrics"]) == ["train/loss", "train/accuracy", "lr", "val/loss"]  # first-seen order
    assert doc["metrics"]["train/loss"][0]["value"] == "NaN"
    doc, _ = ok_json(data, *base, "--around", "0", "--window", "1")
    assert list(doc)[-2:] == ["around", "window"] and (doc["around"], doc["window"]) == (0, 1)
    assert [v["step"] for v in doc["metrics"]["lr"]] == [0, 1]
    doc, _ = ok_json(data, *base, "--step", "5000")
    assert doc["metrics"] == {}
    assert run(data, *base, "--step", "5000").out == "No metrics found in the specified range.\n"
    fails(run(data, *base, "--json"), 1, "Provide --step, --around (with --window), or --at-time (with --window).")
    out = run(data, *base, "--step", "10").out
    assert out.startswith("\nlr:\n") and "\ntrain/accuracy:\n" in out and "\nval/loss:\n" in out


# ---------------------------------------------------------------- system metrics

def test_get_system_metric(data):
    base = ["get", "system-metric", "--project", "vision-exp", "--run", "baseline"]
    doc, _ = ok_json(data, *base)
    assert list(doc) == ["project", "run", "run_id", "system_metrics"]
    entries = doc["system_metrics"]
    assert [list(e) for e in entries] == [["cpu/percent", "mem/used_gb", "timestamp"], ["cpu/percent", "timestamp"]]
    assert entries[0]["cpu/percent"] == 10.0
    doc, _ = ok_json(data, *base, "--metric", "mem/used_gb")
    assert list(doc) == ["project", "run", "run_id", "metric", "values"]
    assert doc["values"] == [{"mem/used_gb": 1.5, "timestamp": entries[0]["timestamp"]}]
    fails(run(data, *base, "--metric", "gpu/0/temp"), 1,
          "System metric 'gpu/0/temp' not found in run 'baseline' of project 'vision-exp'.")
    out = run(data, *base).out
    assert out.startswith("Found 2 system metric entry/entries:\n\n\nEntry 1 (Timestamp: ")
    assert "  cpu/percent: 10.0\n  mem/used_gb: 1.5\n\nEntry 2" in out
    assert run(data, "get", "system-metric", "--project", "steps", "--run", "back").out == "No system metrics found.\n"


# ---------------------------------------------------------------- query

def test_query_json_and_human(data):
    sql = "  SELECT run_name, COUNT(*) AS n, MAX(step) AS last FROM metrics GROUP BY run_name ORDER BY n DESC ;; "
    doc, _ = ok_json(data, "query", "project", "--project", "vision-exp", "--sql", sql)
    assert doc == {"project": "vision-exp", "query": sql.strip().rstrip("; "), "columns": ["run_name", "n", "last"],
                   "rows": [{"run_name": "baseline", "n": 51, "last": 60},
                            {"run_name": "résumé 🚀 run 2", "n": 5, "last": 4}], "row_count": 2}
    out = run(data, "query", "project", "--project", "vision-exp", "--sql", sql).out
    assert out == ("Query returned 2 row(s).\n"
                   "run_name       | n  | last\n"
                   "---------------+----+-----\n"
                   "baseline       | 51 | 60  \n"
                   "résumé 🚀 run 2 | 5  | 4   \n")


def test_query_cell_values(data):
    sql = ("SELECT NULL AS n, X'ff00fe01' AS b, CAST('é' AS BLOB) AS u, 1e999 AS inf, -1e999 AS ninf, "
           "json_extract(metrics, '$.\"train/loss\"') AS loss FROM metrics WHERE step = 20 AND run_name = 'baseline'")
    doc, _ = ok_json(data, "query", "project", "--project", "vision-exp", "--sql", sql)
    row = doc["rows"][0]
    # (randomblob(4) would be flaky: random bytes are sometimes valid UTF-8, which is returned as text)
    assert row["n"] is None and row["b"] == "ff00fe01" and row["u"] == "é"
    assert (row["inf"], row["ninf"], row["loss"]) == ("Infinity", "-Infinity", "NaN")
    doc, _ = ok_json(data, "query", "project", "--project", "upstream", "--sql",
                     "SELECT typeof(metrics) AS t, metrics FROM metrics ORDER BY id LIMIT 1")
    assert doc["rows"][0]["t"] == "blob" and json.loads(doc["rows"][0]["metrics"])["lr"] == 0.01
    out = run(data, "query", "project", "--project", "vision-exp", "--sql", "SELECT 1 AS a WHERE 0").out
    assert out == "Query returned 0 row(s).\na\n-\n(no rows)\n"


@pytest.mark.parametrize("sql, message", [
    ("", "Query cannot be empty."),
    ("  ;  ", "Query cannot be empty."),
    ("SELEC 1", "Only read-only SELECT, WITH, and safe PRAGMA queries are supported."),
    ("DELETE FROM metrics", "Only read-only SELECT, WITH, and safe PRAGMA queries are supported."),
    ("ATTACH DATABASE ':memory:' AS x", "Only read-only SELECT, WITH, and safe PRAGMA queries are supported."),
    ("WITH x AS (SELECT 1) DELETE FROM metrics", "not authorized"),
    ("WITH x AS (SELECT 1) UPDATE runs SET status = 'crashed'", "not authorized"),
    ("WITH x AS (SELECT 1) INSERT INTO alerts (run_id, timestamp, run_name, title) VALUES ('a','b','c','d')",
     "not authorized"),
    ("PRAGMA journal_mode = DELETE", "not authorized"),
    ("PRAGMA user_version = 7", "not authorized"),
    ("PRAGMA writable_schema = 1", "not authorized"),
    ("SELECT * FROM pragma_journal_mode", None),
    ("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 3) SELECT * FROM r", "not authorized"),
    ("SELECT 1; DELETE FROM metrics", "You can only execute one statement at a time."),
    ("SELECT 1; SELECT 2", "You can only execute one statement at a time."),
    ("SELECT * FROM nope", "no such table: nope"),
    ("SELECT a.id FROM metrics a, metrics b, metrics c", "Query returned more than 10000 rows. Refine the query or add a LIMIT clause."),
])
def test_query_is_read_only_for_real(data, sql, message):
    path = data.dir / "vision-exp.db"
    before = rows(path, "SELECT COUNT(*), (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM alerts) FROM metrics")
    r = run(data, "query", "project", "--project", "vision-exp", "--sql", sql, "--json")
    fails(r, 1, message)
    assert rows(path, "SELECT COUNT(*), (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM alerts) FROM metrics") == before
    assert rows(path, "PRAGMA journal_mode") == [("wal",)] and rows(path, "PRAGMA user_version") == [(2,)]


def test_query_allowed_pragmas_and_row_limit_edge(data):
    doc, _ = ok_json(data, "query", "project", "--project", "vision-exp", "--sql", "PRAGMA table_info(metrics)")
    assert [r["name"] for r in doc["rows"]][:3] == ["id", "run_id", "timestamp"]
    doc, _ = ok_json(data, "query", "project", "--project", "vision-exp", "--sql", "pragma user_version")
    assert doc["rows"] == [{"user_version": 2}]
    doc, _ = ok_json(data, "query", "project", "--project", "vision-exp", "--sql",
                     "SELECT a.id FROM metrics a, metrics b, metrics c LIMIT 10000")
    assert doc["row_count"] == 10000
    doc, _ = ok_json(data, "query", "project", "--project", "vision-exp", "--sql",
                     "SELECT DISTINCT j.key FROM metrics, json_each(metrics.metrics) AS j ORDER BY 1 LIMIT 2")
    assert doc["rows"] == [{"key": "flag"}, {"key": "label"}]


# ---------------------------------------------------------------- status and the delegated commands

def test_status_counts_local_synced_and_unsynced(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    assert cli("status", data_dir=d).out == "Reading local Trackio projects...\n\nNo Trackio projects found.\n"
    write_with_api(d, "import trackio\nfor p in ('a', 'b', 'c', 'd'):\n"
                      "    trackio.init(project=p, name='r', auto_log_cpu=False); trackio.log({'x': 1}); trackio.finish()")
    import sqlite3

    from trackio.store.syncstate import fingerprint

    for name, synced in (("c", True), ("d", False)):
        conn = sqlite3.connect(d / f"{name}.db")
        conn.execute("INSERT INTO project_metadata (key, value) VALUES ('space_id', ?)", (f"me/{name}",))
        fp = fingerprint(conn) if synced else "stale"
        conn.execute("INSERT INTO project_metadata (key, value) VALUES ('last_sync', ?)",
                     (json.dumps({"at": "x", "space_id": f"me/{name}", "fingerprint": fp}),))
        conn.commit()
        conn.close()
    (d / "broken.db").write_bytes(b"garbage" * 100)
    r = cli("status", data_dir=d)
    assert r.rc == 0 and "broken.db" in r.err
    assert r.out == ("Reading local Trackio projects...\n\nFinished reading Trackio projects\n"
                     "  * 2 local trackio project(s) [OK]\n"
                     "  * 1 trackio project(s) synced to Spaces [OK]\n"
                     "  * 1 trackio project(s) with unsynced changes [WARNING]:\n    - d\n\n"
                     "Run `trackio sync --project d` to sync. Or run `trackio sync --all` to sync all unsynced changes.\n")


def test_tui_and_show_print_a_summary_when_not_a_terminal(data):
    r = run(data, "tui", "--project", "vision-exp", "--interval", "2")
    assert r.rc == 0 and r.err == ""
    assert r.out.startswith("Project: vision-exp  (") and "Run: baseline  [" in r.out
    fails(run(data, "tui", "--project", "nope"), 1, "Project 'nope' not found.")
    r = run(data, "show", "--project", "vision-exp")
    assert r.rc == 0 and r.out.startswith("Project: vision-exp  (")


def test_show_flags_and_registry(data):
    fails(run(data, "show", "registry"), 1, "The registry dashboard is not supported.")
    r = run(data, "show", "--project", "vision-exp", "--theme", "soft", "--no-footer", "--host", "0.0.0.0")
    assert r.rc == 0 and r.out.startswith("Project: vision-exp")
    assert r.err == ("Note: --theme has no effect on the terminal dashboard.\n"
                     "Note: --no-footer has no effect on the terminal dashboard.\n"
                     "Note: --host has no effect on the terminal dashboard.\n")


# ---------------------------------------------------------------- output plumbing

def test_json_is_utf8_whatever_the_locale(data):
    r = run(data, "list", "runs", "--project", "vision-exp", "--json",
            env={"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"})
    assert r.rc == 0 and "résumé 🚀 run 2".encode() in r.raw


def test_broken_pipe_is_quiet(data):
    import subprocess

    from cli_support import TRACKIO

    p = subprocess.Popen([TRACKIO, "get", "metric", "--project", "vision-exp", "--run", "baseline",
                          "--metric", "lr", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**__import__("os").environ, "TRACKIO_DIR": str(data.dir)})
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_colour_only_on_a_tty_without_no_color(data):
    import os

    env = {**os.environ, "TRACKIO_DIR": str(data.dir)}
    env.pop("NO_COLOR", None)
    args = ["list", "alerts", "--project", "vision-exp"]
    assert "\x1b[" in run_in_pty(args, env)
    assert "\x1b[" not in run_in_pty(args, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in run(data, *args).out


def test_metric_names_json_would_escape(tmp_path):
    d = tmp_path / "data"
    write_with_api(d, "import trackio\ntrackio.init(project='q', name='r', auto_log_cpu=False)\n"
                      "for i in range(3):\n    trackio.log({'a\"b': i, 'c\\\\d': i, 'é': i, 'tab\\there': i, 'x': 1})\n"
                      "trackio.finish()\n")
    names = cli("list", "metrics", "--project", "q", "--run", "r", "--json", data_dir=d).json()["metrics"]
    assert names == ['a"b', "c\\d", "tab\there", "x", "é"]
    for name in names:
        r = cli("get", "metric", "--project", "q", "--run", "r", "--metric", name, "--json", data_dir=d)
        assert r.rc == 0, (name, r.err)
        assert [v["value"] for v in r.json()["values"]] == ([1, 1, 1] if name == "x" else [0, 1, 2])
