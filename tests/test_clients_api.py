"""``trackio.Api().runs(project)`` (contract §1.11): the read-back path docs and probes use."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest


def test_api_runs_lists_runs_with_configs_in_creation_order(trackio_dir):
    import trackio

    a = trackio.init(project="api-proj", name="a", config={"lr": 0.1}, group="g1")
    trackio.log({"x": 1})
    trackio.finish()
    b = trackio.init(project="api-proj", name="b", config={"lr": 0.2})
    runs = trackio.Api().runs("api-proj")  # while b is still running
    assert [(r.name, r.status) for r in runs] == [("a", "finished"), ("b", "running")]
    trackio.config["late"] = True
    trackio.finish()
    trackio.init(project="api-proj", name="a", resume="allow", config={"epochs": 3})
    trackio.finish()

    runs = trackio.Api().runs("api-proj")
    assert len(runs) == 2 and runs[-1].name == "b"
    assert [r.id for r in runs] == [a.id, b.id]
    assert [r.project for r in runs] == ["api-proj", "api-proj"]
    first, second = list(runs)
    assert {k: v for k, v in first.config.items() if not k.startswith("_")} == {"lr": 0.1, "epochs": 3}
    assert first.config["_Group"] == "g1" and first.group == "g1"
    assert second.config["late"] is True
    assert first.config["_Created"] == first.created_at
    assert not hasattr(first, "delete") and not hasattr(first, "move"), "read-only"
    assert trackio.Api().projects() == ["api-proj"]
    assert "runs=['a', 'b']" in repr(runs)


def test_api_unknown_project_and_canonical_names(trackio_dir):
    import trackio

    with pytest.raises(ValueError) as e:
        trackio.Api().runs("ghost")
    assert str(e.value) == "Project 'ghost' not found."
    trackio.init(project="my.model", name="r")
    trackio.finish()
    (run,) = trackio.Api().runs("my.model")
    assert run.project == "my.model" and run.name == "r"
    assert [r.name for r in trackio.Api().runs("mymodel")] == ["r"]


def test_api_reads_upstream_files_without_changing_them(trackio_dir):
    """An upstream-0.43-style file: BLOB JSON, no ``runs`` table; status is ``unknown``."""
    import trackio
    from trackio.store.reader import ProjectUnreadable

    trackio_dir.mkdir(parents=True)
    path = trackio_dir / "up.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,"
        " run_name TEXT NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL, log_id TEXT, space_id TEXT);"
        "CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, run_name TEXT NOT NULL,"
        " config TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE(run_id));")
    conn.execute("INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?,?,?,?)",
                 ("u1", "old", json.dumps({"lr": 1e-3, "_Created": "2025-01-01T00:00:00"}).encode(),
                  "2025-01-01T00:00:00"))
    conn.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                 ("u2", "2025-01-02T00:00:00", "only-metrics", 0, b'{"x": 1}'))
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    runs = trackio.Api().runs("up")
    assert [(r.id, r.name, r.status, r.config) for r in runs] == [
        ("u1", "old", "unknown", {"lr": 1e-3, "_Created": "2025-01-01T00:00:00"}),
        ("u2", "only-metrics", "unknown", {}),
    ]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before

    (trackio_dir / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ProjectUnreadable, match="^Could not read project 'junk': "):
        trackio.Api().runs("junk")
