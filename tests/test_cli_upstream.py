"""Files written by upstream trackio (contract §2.4, §2.8): JSON as BLOB, nested objects, bare NaN
tokens, other ISO timestamp forms, no ``runs`` table, and such a run resumed by our writer.

The CLI must flatten on read and answer exactly as for our own files; the reader's SQL fast path and
its Python fallback must render identical bytes.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from cli_support import UP_RUN, UPSTREAM_ROWS, build_upstream, cli, expected_json, rows, write_with_api


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    d = tmp_path_factory.mktemp("up") / "data"
    d.mkdir()
    build_upstream(d / "upstream.db")
    build_upstream(d / "mixed.db", nan_text_row=False)
    # Our writer resumes the upstream run and logs flat rows, lists and media after the old rows.
    write_with_api(d, "import trackio\n"
                      "trackio.init(project='mixed', name='up-run', resume='allow', auto_log_cpu=False)\n"
                      "for i in range(5, 12):\n"
                      "    trackio.log({'train/loss': 0.5 - i / 100, 'lr': 0.001, 'hist': [i, i + 1] if i % 3 == 0 else i})\n"
                      "trackio.log({'train': {'loss': 0.01}, 'img': trackio.Table(data=[[1, 2]])})\n"
                      "trackio.finish()\n")
    return d


def test_upstream_run_lists_and_flattens(up):
    r = cli("list", "runs", "--project", "upstream", "--json", data_dir=up)
    doc = r.json()
    assert doc["runs"] == ["up-run"] and doc["run_details"][0]["status"] == "unknown"
    assert doc["run_details"][0]["id"] == UP_RUN
    r = cli("list", "metrics", "--project", "upstream", "--run", "up-run", "--json", data_dir=up)
    assert r.json()["metrics"] == ["lr", "media", "train/acc", "train/loss"]  # {} gives no name
    r = cli("list", "system-metrics", "--project", "upstream", "--run", UP_RUN, "--json", data_dir=up)
    assert r.json()["system_metrics"] == ["gpu/0/util"]


def test_upstream_values_from_blob_nested_and_nan_rows(up):
    r = cli("get", "metric", "--project", "upstream", "--run", "up-run", "--metric", "train/loss", "--json",
            data_dir=up)
    values = [{"timestamp": ts, "step": s, "value": v} for (ts, s, _), v in zip(UPSTREAM_ROWS, [1.0, 0.9, 0.8, 0.7, 0.6])]
    values.append({"timestamp": "2026-01-01T00:00:06+00:00", "step": 5, "value": "NaN"})
    assert r.rc == 0 and r.out == expected_json({"project": "upstream", "run": "up-run", "run_id": UP_RUN,
                                                 "metric": "train/loss", "values": values})
    lr = cli("get", "metric", "--project", "upstream", "--run", "up-run", "--metric", "lr", "--json", data_dir=up).json()
    assert lr["values"][-1]["value"] == "Infinity"
    media = cli("get", "metric", "--project", "upstream", "--run", "up-run", "--metric", "media", "--json",
                data_dir=up).json()
    assert media["values"][0]["value"] == {"_type": "trackio.image", "file_path": "x.png"}
    r = cli("get", "metric", "--project", "upstream", "--run", "up-run", "--metric", "train", data_dir=up)
    assert r.rc == 1 and r.err == "Error: Metric 'train' not found in run 'up-run' of project 'upstream'.\n"


def test_upstream_run_config_status_and_project(up):
    doc = cli("get", "run", "--project", "upstream", "--run", "up-run", "--json", data_dir=up).json()
    assert doc["config"] == {"lr": 0.01, "opt": {"name": "adam"}, "_Username": None,
                             "_Created": "2026-01-01T00:00:00+00:00"}
    assert (doc["status"], doc["num_logs"], doc["last_step"]) == ("unknown", 6, 5)
    proj = cli("get", "project", "--project", "upstream", "--json", data_dir=up).json()
    assert proj["runs"][0]["created_at"] == "2026-01-01T00:00:00+00:00" and proj["last_activity"] == 5
    alerts = cli("list", "alerts", "--project", "upstream", "--json", data_dir=up).json()["alerts"]
    assert alerts[0]["alert_id"] is None and alerts[0]["text"] is None and alerts[0]["step"] == 2


def test_upstream_timestamps_compare_as_instants(up):
    base = ["get", "metric", "--project", "upstream", "--run", "up-run", "--metric", "train/loss", "--json"]
    steps = lambda *a: [v["step"] for v in cli(*base, *a, data_dir=up).json()["values"]]  # noqa: E731
    assert steps("--at-time", "2026-01-01", "--window", "4") == [0, 1, 2, 3]
    assert steps("--at-time", "2026-01-01", "--window", "5") == [0, 1, 2, 3, 4]
    assert steps("--at-time", "2026-01-01T00:00:03Z", "--window", "0") == [2]
    assert steps("--at-time", "2025-12-31 19:00:05-05:00", "--window", "0") == [4]
    assert steps("--at-time", "2026-01-01T01:00:04+0100", "--window", "0") == [3]
    snap = cli("get", "snapshot", "--project", "upstream", "--run", "up-run", "--around", "1", "--window", "1",
               "--json", data_dir=up).json()
    assert list(snap["metrics"]) == ["train/loss", "train/acc", "lr", "media"]
    since = cli("list", "alerts", "--project", "upstream", "--since", "2026-01-01T01:00:02+01:00", "--json",
                data_dir=up).json()
    assert len(since["alerts"]) == 1
    system = cli("get", "system-metric", "--project", "upstream", "--run", "up-run", "--json", data_dir=up).json()
    assert system["system_metrics"] == [{"gpu/0/util": 55, "timestamp": "2026-01-01T00:00:02+00:00"}]


def test_resumed_upstream_run_mixes_old_and_new_rows_in_logging_order(up):
    doc = cli("get", "metric", "--project", "mixed", "--run", "up-run", "--metric", "train/loss", "--json",
              data_dir=up).json()
    assert [v["value"] for v in doc["values"]] == [1.0, 0.9, 0.8, 0.7, 0.6, *(0.5 - i / 100 for i in range(5, 12)),
                                                   0.01]
    run = cli("get", "run", "--project", "mixed", "--run", "up-run", "--json", data_dir=up).json()
    assert run["run_id"] == UP_RUN and run["status"] == "finished"
    assert run["metrics"] == ["hist", "img", "lr", "media", "train/acc", "train/loss"]


# ---------------------------------------------------------------- reader: SQL fast path vs Python

def _reference(conn, run_id, metric, window=None) -> str:
    from trackio.store import readmetrics

    entries = [{"timestamp": t, "step": s, "value": v} for t, s, v in
               readmetrics.metric_values(conn, run_id, metric, window)]
    text = json.dumps({"values": entries}, indent=2, ensure_ascii=False)
    return text[len('{\n  "values": [\n'):-len("\n  ]\n}")] if entries else ""


def _write_run(tmp_path, body: str):
    """Run ``body`` after ``trackio.init(project='p', name='r')`` in a subprocess; the project file."""
    d = tmp_path / "data"
    write_with_api(d, "import trackio\ntrackio.init(project='p', name='r', auto_log_cpu=False)\n" + body
                   + "trackio.finish()\n")
    return d / "p.db"


@contextmanager
def _read_traced(db):
    """``(connection, id of its first run, list collecting each SQL statement it runs)``."""
    from trackio.store import reader

    conn = reader.connect_reader(db)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        yield conn, reader.project_runs(conn)[0].id, statements
    finally:
        conn.close()


@pytest.mark.parametrize("chunk", [2, 3, 50_000])
def test_sql_rendering_equals_python_rendering(up, monkeypatch, chunk):
    from trackio.store import readmetrics, reader

    monkeypatch.setattr(readmetrics, "CHUNK", chunk)
    conn = reader.connect_reader(up / "mixed.db")
    try:
        for metric in ("train/loss", "lr", "hist", "img", "media", "train/acc", "nope"):
            for window in (None, readmetrics.Window("around", 6, 2), readmetrics.Window("step", 11)):
                chunks, n = readmetrics.metric_values_json(conn, UP_RUN, metric, window)
                assert b",\n".join(chunks).decode() == _reference(conn, UP_RUN, metric, window), (metric, window)
                assert n == len(readmetrics.metric_values(conn, UP_RUN, metric, window))
    finally:
        conn.close()


def test_python_values_match_a_plain_decode_of_every_row(up):
    from trackio.store import reader, readmetrics
    from trackio.store.decode import decode_row

    conn = reader.connect_reader(up / "mixed.db")
    try:
        for metric in ("train/loss", "lr", "hist", "img", "media", "train/acc"):
            expected = []
            for ts, step, raw in rows(up / "mixed.db", "SELECT timestamp, step, metrics FROM metrics ORDER BY id"):
                flat = decode_row(raw)
                if metric in flat:
                    expected.append((ts, step, flat[metric]))
            assert readmetrics.metric_values(conn, UP_RUN, metric) == expected, metric
    finally:
        conn.close()


def test_whole_run_json_is_rendered_by_sqlite_for_our_rows(tmp_path):
    """A run written by our writer is rendered by SQL (concatenation + group_concat), not row by row in
    Python; only chunks holding rows SQL cannot read exactly fall back."""
    from trackio.store import readmetrics

    db = _write_run(tmp_path, "for i in range(300):\n    trackio.log({'loss': 1 / (i + 1), 'seq': [i] if i == 250 else i})\n")
    with _read_traced(db) as (conn, run_id, statements):
        statements.clear()
        chunks, n = readmetrics.metric_values_json(conn, run_id, "loss")
        assert n == 300 and not any("ORDER BY id" in s for s in statements)
        assert any("group_concat" in s and "NOT INDEXED" in s for s in statements)
        statements.clear()
        chunks, n = readmetrics.metric_values_json(conn, run_id, "seq")
        assert n == 300 and sum("ORDER BY id" in s for s in statements) == 1  # one chunk re-read in Python
        assert b",\n".join(chunks).decode() == _reference(conn, run_id, "seq")


@pytest.mark.parametrize("chunk", [4, 7, 50_000])
def test_sparse_metric_is_rendered_by_sqlite_and_matches_python(tmp_path, monkeypatch, chunk):
    """A metric logged in every third row only: SQL notices the missing rows, filters them from then
    on, and renders the same text as Python; no chunk falls back to a row-by-row read."""
    from trackio.store import readmetrics

    monkeypatch.setattr(readmetrics, "CHUNK", chunk)
    db = _write_run(tmp_path, "for i in range(60):\n    row = {'loss': 1 / (i + 1)}\n"
                              "    if i % 3 == 2:\n        row['eval/acc'] = i / 100\n    trackio.log(row)\n")
    with _read_traced(db) as (conn, run_id, statements):
        for metric in ("eval/acc", "loss", "nope"):
            statements.clear()
            chunks, n = readmetrics.metric_values_json(conn, run_id, metric)
            assert not any("ORDER BY id" in s for s in statements), metric
            assert n == {"eval/acc": 20, "loss": 60, "nope": 0}[metric]
            assert b",\n".join(chunks).decode() == _reference(conn, run_id, metric)


def test_small_floats_render_as_python_writes_them(tmp_path):
    """Floats whose text differs between encoders (``3e-06`` vs orjson's ``3e-6``, ``1.5e-05`` vs
    ``0.000015``): ``get metric --json`` prints what ``json.dumps`` prints, as the windowed path does."""
    from trackio.store import readmetrics

    values = [3e-6, 1.5e-05, -2.5e-9, 1e-10, 0.0001, 1e16, 123.0, -0.0, 7e-5, 9.999e-06]
    db = _write_run(tmp_path, f"for v in {values!r}:\n    trackio.log({{'lr': v, 'n': 1}})\n")
    with _read_traced(db) as (conn, run_id, _):
        chunks, n = readmetrics.metric_values_json(conn, run_id, "lr")
        assert n == len(values)
        assert b",\n".join(chunks).decode() == _reference(conn, run_id, "lr")
        for v in values:
            assert f'"value": {json.dumps(v)}\n' in chunks[0].decode()


@pytest.mark.parametrize("chunk", [2, 50_000])
def test_escaped_strings_render_as_json_dumps_writes_them(tmp_path, monkeypatch, chunk):
    """Stored strings holding escapes json.dumps(ensure_ascii=False) would not write: our writer's
    ASCII-escaped row (it holds a lone surrogate), an older upstream TEXT row (ensure_ascii), a "\\/".
    The whole-run rendering must still print the characters, as the Python path does."""
    import sqlite3

    from trackio.store import readmetrics

    monkeypatch.setattr(readmetrics, "CHUNK", chunk)
    db = _write_run(tmp_path, "trackio.log({'name': 'plain', 'n': 0})\n"
                              "trackio.log({'name': 'café 😀', 'file': 'x\\udcff.txt', 'n': 1})\n"
                              "trackio.log({'name': 'tab\\there \"q\"', 'n': 2})\n")
    with sqlite3.connect(db) as c:
        rid, ts = c.execute("SELECT run_id, timestamp FROM metrics LIMIT 1").fetchone()
        for step, text in ((3, r'{"name":"caf\u00e9 \u6f22","n":3}'), (4, r'{"name":"a\/b","n":4}')):
            c.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                      (rid, ts, "r", step, text))
    with _read_traced(db) as (conn, _, _):
        chunks, n = readmetrics.metric_values_json(conn, rid, "name")
        text = b",\n".join(chunks).decode()
        assert n == 5 and text == _reference(conn, rid, "name")
        assert '"café 😀"' in text and '"café 漢"' in text and '"a/b"' in text
