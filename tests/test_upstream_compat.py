"""Files written by upstream trackio open and read in ours, and ours keep upstream's shape
(contract §2.2, §2.4, §2.8). The upstream files are built here with upstream's DDL and row shapes:
JSON stored as BLOB, nested objects, NaN as strings, naive and offset timestamps, no runs table."""

from __future__ import annotations

import json
import sqlite3

from conftest import db_rows

import trackio
from trackio.store.reader import decode_row, open_project
from trackio.store.runs import project_runs
from trackio.store.schema import RUNS_DDL, UPSTREAM_DDL, UPSTREAM_INDEXES

RID = "a" * 32


def _blob(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def make_upstream_db(path):
    conn = sqlite3.connect(path)
    conn.executescript(UPSTREAM_DDL + UPSTREAM_INDEXES)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?,?,?,?)",
                 (RID, "up-run", _blob({"lr": 0.1, "_Username": None, "_Created": "2026-01-01T00:00:00+00:00"}),
                  "2026-01-01T00:00:00+00:00"))
    rows = [
        ("2026-01-01T00:00:01.5+00:00", 0, {"train": {"loss": 1.0, "acc": 0.1}, "lr": 0.1}),
        ("2026-01-01T00:00:02+00:00", 1, {"train": {"loss": "NaN"}, "lr": "Infinity"}),
        ("2026-01-01T00:00:03+00:00", 2, {"img": {"_type": "trackio.image", "file_path": "p/x.png", "caption": None}}),
    ]
    for ts, step, m in rows:
        conn.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                     (RID, ts, "up-run", step, _blob(m)))
    # an upstream run with metrics but no config row
    conn.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                 ("b" * 32, "2026-01-02T00:00:00+00:00", "metrics-only", 0, _blob({"x": 1})))
    conn.execute("INSERT INTO alerts (run_id, timestamp, run_name, title, text, level, step) VALUES (?,?,?,?,?,?,?)",
                 (RID, "2026-01-01T00:00:04+00:00", "up-run", "old alert", None, "warn", 2))
    conn.commit()
    conn.close()


def test_upstream_file_reads_correctly(trackio_dir):
    trackio_dir.mkdir(parents=True)
    make_upstream_db(trackio_dir / "legacy.db")
    conn = open_project("legacy")
    runs = project_runs(conn)
    assert [(r.name, r.status, r.created_at) for r in runs] == [
        ("up-run", "unknown", "2026-01-01T00:00:00+00:00"),
        ("metrics-only", "unknown", "2026-01-02T00:00:00+00:00"),
    ]
    decoded = [decode_row(m) for (m,) in conn.execute("SELECT metrics FROM metrics WHERE run_id=? ORDER BY id", (RID,))]
    conn.close()
    assert decoded == [
        {"train/loss": 1.0, "train/acc": 0.1, "lr": 0.1},
        {"train/loss": "NaN", "lr": "Infinity"},
        {"img": {"_type": "trackio.image", "file_path": "p/x.png", "caption": None}},
    ]


def test_resuming_an_upstream_run_keeps_its_rows_and_adds_ours(trackio_dir):
    trackio_dir.mkdir(parents=True)
    make_upstream_db(trackio_dir / "legacy.db")
    run = trackio.init(project="legacy", name="up-run", resume="allow", config={"batch": 8})
    assert run.id == RID and run.config["lr"] == 0.1 and run.config["batch"] == 8
    trackio.log({"train": {"loss": 0.5}})
    trackio.finish()
    assert db_rows(trackio_dir, "legacy", "SELECT step, typeof(metrics) FROM metrics WHERE run_id=? ORDER BY id",
                   (RID,)) == [(0, "blob"), (1, "blob"), (2, "blob"), (3, "text")]
    assert db_rows(trackio_dir, "legacy", "SELECT name, status, created_at FROM runs") == [
        ("up-run", "finished", "2026-01-01T00:00:00+00:00")]
    assert db_rows(trackio_dir, "legacy", "PRAGMA user_version") == [(2,)]
    # third-party viewers' query keeps working
    assert len(db_rows(trackio_dir, "legacy", "SELECT id, timestamp, run_name, step, metrics FROM metrics")) == 5


def test_older_file_without_run_id_columns_is_migrated(trackio_dir):
    trackio_dir.mkdir(parents=True)
    conn = sqlite3.connect(trackio_dir / "old.db")
    conn.executescript("""
        CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT, run_name TEXT, step INTEGER,
                              metrics TEXT);
        CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_name TEXT UNIQUE, config TEXT,
                              created_at TEXT);
        PRAGMA user_version = 1;
    """)
    conn.execute("INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES ('2025-05-05T10:00:00', 'r', 0, ?)",
                 (_blob({"loss": 2.0}),))
    conn.execute("INSERT INTO configs (run_name, config, created_at) VALUES ('r', ?, '2025-05-05T10:00:00')",
                 (_blob({"lr": 1}),))
    conn.commit()
    conn.close()
    reader = open_project("old")
    assert [(r.id, r.name) for r in project_runs(reader)] == [("r", "r")]
    reader.close()

    run = trackio.init(project="old", name="r", resume="must")
    assert run.id == "r" and run.config["lr"] == 1
    trackio.log({"loss": 1.0})
    trackio.finish()
    assert db_rows(trackio_dir, "old", "SELECT run_id, step FROM metrics ORDER BY id") == [("r", 0), ("r", 1)]
    assert db_rows(trackio_dir, "old", "PRAGMA user_version") == [(1,)]


def test_our_file_has_upstreams_shape(trackio_dir):
    trackio.init(project="shape", name="r")
    trackio.log({"a": {"b": 1}})
    trackio.finish()
    conn = sqlite3.connect(trackio_dir / "shape.db")
    schema = {name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")}
    conn.close()
    expected = sqlite3.connect(":memory:")
    expected.executescript(UPSTREAM_DDL + UPSTREAM_INDEXES + RUNS_DDL)
    want = {name: sql for name, sql in expected.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")}
    assert schema == want
    assert not (trackio_dir / "shape.lock").exists()
