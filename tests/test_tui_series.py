"""trackio/store/series.py over real project files: column reads, the Python decode path for
upstream rows, value rules, strided previews and cursor polling."""

from __future__ import annotations

import contextlib
import io
import math
import sqlite3

import numpy as np
import pytest

from trackio.store.reader import open_project
from trackio.store.series import Column, Cursor, RowBlock, concat_blocks, max_id, poll, read_run, run_keys, to_column


@pytest.fixture
def project(trackio_dir):
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        run = trackio.init(project="ser", name="a", config={"lr": 0.1}, auto_log_cpu=False, auto_log_gpu=False)
        for s in range(50):
            row = {"loss": 1.0 / (s + 1), "nested": {"acc": s / 50}}
            if s == 7:
                row["loss"] = float("nan")
            if s == 8:
                row["loss"] = float("inf")
            if s % 10 == 9:
                row["val/loss"] = s * 0.01
            if s == 3:
                row["note"] = "hello"
                row["flag"] = True
            trackio.log(row)
        run.alert("half", "way", level="info", step=25)
        trackio.log_system({"cpu": {"utilization": 12.5}})
        trackio.finish()
    conn = open_project("ser", trackio_dir)
    yield conn, run.id
    conn.close()


def test_read_run_extracts_columns_with_positions_for_sparse_metrics(project):
    conn, rid = project
    b = read_run(conn, rid, max_id(conn, "metrics"))
    assert b.exact and b.ids.size == 50 and b.steps.tolist() == list(range(50))
    assert np.all(np.diff(b.times) >= 0) and b.times[0] > 1.7e9
    loss = b.columns["loss"]
    assert loss.pos is None and math.isnan(loss.y[7]) and loss.y[8] == math.inf
    val = b.columns["val/loss"]
    assert val.pos.tolist() == [9, 19, 29, 39, 49]
    assert val.y.tolist() == pytest.approx([0.09, 0.19, 0.29, 0.39, 0.49])
    assert b.columns["nested/acc"].y[10] == pytest.approx(0.2)
    assert "note" not in b.columns  # strings are not chartable
    assert b.columns["flag"].pos.tolist() == [3] and b.columns["flag"].y.tolist() == [1.0]


def test_decode_path_matches_the_sql_path(project):
    conn, rid = project
    hi = max_id(conn, "metrics")
    fast = read_run(conn, rid, hi, decode=False)
    slow = read_run(conn, rid, hi, decode=True)
    assert set(fast.columns) == set(slow.columns)
    for k in fast.columns:
        a, b = fast.columns[k], slow.columns[k]
        assert (a.pos is None) == (b.pos is None) or np.array_equal(
            a.pos if a.pos is not None else np.arange(50), b.pos if b.pos is not None else np.arange(50))
        np.testing.assert_array_equal(a.y, b.y)
    assert run_keys(conn, rid, hi)[:2] == ["loss", "nested/acc"]


def test_upstream_blob_and_nested_rows_are_flattened_on_read(trackio_dir):
    trackio_dir.mkdir(parents=True)
    db = sqlite3.connect(trackio_dir / "up.db")
    db.execute("CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT, run_name TEXT, "
               "step INTEGER, metrics BLOB)")
    for s in range(5):
        db.execute("INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES (?,?,?,?)",
                   (f"2026-01-01T00:00:0{s}", "old", s, f'{{"train": {{"loss": {s}}}, "x": "NaN"}}'.encode()))
    db.commit()
    db.close()
    conn = open_project("up", trackio_dir)
    b = read_run(conn, "old", max_id(conn, "metrics"))
    assert b.columns["train/loss"].y.tolist() == [0, 1, 2, 3, 4]
    assert np.isnan(b.columns["x"].y).all()
    assert b.times[1] - b.times[0] == pytest.approx(1.0, abs=1e-3)
    conn.close()


def test_strided_preview_samples_rows_and_is_marked_inexact(project):
    conn, rid = project
    b = read_run(conn, rid, max_id(conn, "metrics"), stride=7)
    assert not b.exact
    assert all(i % 7 == 0 for i in b.ids.tolist()) and 0 < b.ids.size < 50


def test_to_column_distinguishes_absent_from_nan():
    c = to_column([1, None, "NaN", "Infinity", "-Infinity", "text", [1], 2.5])
    assert c.pos.tolist() == [0, 2, 3, 4, 7]
    assert c.y[0] == 1 and math.isnan(c.y[1]) and c.y[2] == math.inf and c.y[3] == -math.inf
    assert to_column([None, "x"]) is None


def test_poll_reads_only_new_rows_and_advances_the_cursor(project, trackio_dir):
    conn, rid = project
    cur = Cursor()
    d = poll(conn, cur)
    assert [r.name for r in d.runs] == ["a"] and d.runs[0].status == "finished"
    assert d.configs[rid]["lr"] == 0.1
    assert sum(b.ids.size for b in d.metrics) == 50
    assert [a.title for a in d.alerts] == ["half"] and d.alerts[0].step == 25 and d.alerts[0].level == "info"
    assert d.system[0].columns["cpu/utilization"].y.tolist() == [12.5]
    again = poll(conn, cur)
    assert not again.metrics and not again.alerts and not again.system
    import trackio

    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project="ser", name="a", resume="allow", auto_log_cpu=False, auto_log_gpu=False)
        trackio.log({"loss": 0.001})
        trackio.finish()
    d = poll(conn, cur)
    assert len(d.metrics) == 1 and d.metrics[0].steps.tolist() == [50]
    assert d.metrics[0].columns["loss"].y.tolist() == [0.001]


def test_concat_blocks_shifts_positions_and_keeps_dense_columns_dense():
    def blk(ids, cols):
        a = np.array(ids)
        return RowBlock("r", a, a, a.astype(float), cols)

    a = blk([1, 2, 3], {"m": Column(None, np.array([1.0, 2, 3])), "s": Column(np.array([1]), np.array([9.0]))})
    b = blk([4, 5], {"m": Column(None, np.array([4.0, 5])), "t": Column(None, np.array([7.0, 8]))})
    c = concat_blocks("r", [a, b])
    assert c.ids.tolist() == [1, 2, 3, 4, 5]
    assert c.columns["m"].pos is None and c.columns["m"].y.tolist() == [1, 2, 3, 4, 5]
    assert c.columns["s"].pos.tolist() == [1] and c.columns["t"].pos.tolist() == [3, 4]
