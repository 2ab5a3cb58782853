"""The static export: files, downsampling (min/max/last per bucket), incremental re-export, old files."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from trackio.store import spacefmt as fmt
from trackio.store.reader import ProjectNotFound
from trackio.web.export import ExportDirNotEmpty, export_project
from trackio.web.view import downsample


def read(out: Path, path: str):
    return fmt.unwrap((out / path).read_bytes())[1]


def series(out: Path, run_id: str, name: str, stream: str = "m") -> dict:
    """Concatenate a metric's arrays over the run's chunks, as the page does."""
    manifest = read(out, fmt.run_file(run_id))
    got = {"v": [], "lo": [], "hi": [], "s": [], "n": 0}
    chunks = manifest["streams"][stream]["chunks"]
    for i, chunk_name in enumerate(chunks):
        if fmt.view_part(chunk_name):
            continue  # a further part of the chunk before: read with it
        parts = [read(out, f"{fmt.run_dir(run_id)}/{p}") for p in chunks[i:]
                 if p == chunk_name or p.startswith(chunk_name[:-3] + "-p")]
        c = next((p for p in parts if name in p["v"]), parts[0])
        got["n"] += c["nb"]
        v = c["v"].get(name, [None] * c["nb"])
        got["v"] += v
        got["lo"] += (c.get("lo") or {}).get(name, v)
        got["hi"] += (c.get("hi") or {}).get(name, v)
        steps = (c.get("vs") or {}).get(name) or c.get("s") or [None] * c["nb"]
        got["s"] += steps
    return got


def close(a, b, rel):
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


@pytest.fixture
def project(trackio_dir):
    """Two runs: 'dense' (3,000 rows, an eval metric every 100 rows, an alert) and 'odd' (NaN, strings)."""
    import trackio

    dense = trackio.init(project="webx", name="dense", config={"lr": 0.001, "model": {"depth": 4}}, auto_log_cpu=False)
    for s in range(3000):
        row = {"loss": 2.0 * math.exp(-s / 700) + 0.1 * math.sin(s), "acc": s // 7}
        if s % 100 == 99:
            row["eval/loss"] = 1.0 / (s + 1)
        trackio.log(row)
    trackio.alert("Loss spike", "loss went up", level="error")
    trackio.log_system({"cpu/percent": 12.5})
    trackio.finish()
    odd = trackio.init(project="webx", name="odd", auto_log_cpu=False)
    trackio.log({"x": 1.0, "label": "a", "flag": True})
    trackio.log({"x": float("nan"), "label": "b", "flag": False})
    trackio.log({"x": 3.0, "nested": {"deep": 5}})
    trackio.finish()
    return trackio_dir, dense.id, odd.id


def test_export_writes_site_index_and_manifests(project, tmp_path):
    directory, dense, odd = project
    out = tmp_path / "site"
    result = export_project("webx", out, directory)
    assert result.runs == 2
    for f in ("index.html", "app.js", "app.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css",
              "vendor/uPlot.LICENSE"):
        assert (out / f).is_file(), f
    assert "MIT" in (out / "vendor/uPlot.LICENSE").read_text()
    index = read(out, fmt.PROJECT_FILE)
    assert index["project"] == "webx"
    assert [(r["name"], r["status"], r["id"]) for r in index["runs"]] == [("dense", "finished", dense),
                                                                          ("odd", "finished", odd)]
    assert index["runs"][0]["last_step"] == 2999 and index["runs"][0]["rows"] == 3000
    manifest = read(out, fmt.run_file(dense))
    assert manifest["config"]["lr"] == 0.001 and manifest["config"]["model"] == {"depth": 4}
    assert [(a["title"], a["text"], a["level"], a["step"]) for a in manifest["alerts"]] == \
        [("Loss spike", "loss went up", "error", 2999)]
    assert manifest["streams"]["m"]["level"] == 1  # 3,000 rows → buckets of 2 rows → 1,500 points
    assert "s" in manifest["streams"]
    assert result.data_bytes == sum(p.stat().st_size for p in (out / "data").rglob("*") if p.is_file())


def test_downsampled_series_keep_min_max_last_per_bucket(project, tmp_path):
    directory, dense, _ = project
    out = tmp_path / "site"
    export_project("webx", out, directory)
    raw = [json.loads(m) for (m,) in sqlite3.connect(directory / "webx.db").execute(
        "SELECT metrics FROM metrics WHERE run_id=? ORDER BY id", (dense,))]
    loss = [r["loss"] for r in raw]
    got = series(out, dense, "loss")
    assert got["n"] == 1500 <= fmt.MAX_POINTS
    for b in range(1500):
        bucket = loss[2 * b: 2 * b + 2]
        assert close(got["v"][b], bucket[-1], 1e-6)
        assert close(got["lo"][b], min(bucket), 1e-4)
        assert close(got["hi"][b], max(bucket), 1e-4)
    assert got["s"][:3] == [1, 3, 5] and got["s"][-1] == 2999
    acc = series(out, dense, "acc")
    assert acc["v"][:3] == [0, 0, 0] and acc["v"][-1] == 2999 // 7  # ints stay exact
    # A sparse metric keeps the steps it was logged at, not the bucket's last step.
    ev = series(out, dense, "eval/loss")
    pts = [(s, v) for s, v in zip(ev["s"], ev["v"]) if v is not None]
    assert [s for s, _ in pts] == list(range(99, 3000, 100))
    assert close(pts[0][1], 0.01, 1e-6)


def test_non_finite_strings_and_nested_values(project, tmp_path):
    directory, _, odd = project
    out = tmp_path / "site"
    export_project("webx", out, directory)
    chunk = read(out, f"{fmt.run_dir(odd)}/m0-0000-open.js")
    assert chunk["v"]["x"] == [1, "NaN", 3]
    assert chunk["v"]["nested/deep"] == [None, None, 5]  # flattened on read (contract §1.6)
    assert "label" not in chunk["v"] and "flag" not in chunk["v"]  # not chartable


def test_points_never_exceed_the_cap(trackio_dir, tmp_path):
    import trackio

    run = trackio.init(project="cap", name="r", auto_log_cpu=False)
    for s in range(4100):
        trackio.log({"y": s})
    trackio.finish()
    out = tmp_path / "site"
    export_project("cap", out, trackio_dir)
    got = series(out, run.id, "y")
    assert got["n"] == 1025 and len(got["v"]) == 1025  # 4,100 rows / buckets of 4
    assert got["v"][:2] == [3, 7] and got["lo"][:2] == [0, 4] and got["v"][-1] == 4099


def test_reexport_rewrites_only_the_open_chunk(trackio_dir, tmp_path):
    import trackio

    run = trackio.init(project="inc", name="r", auto_log_cpu=False)
    for s in range(1200):
        trackio.log({"y": float(s)})
    trackio.finish()
    out = tmp_path / "site"
    export_project("inc", out, trackio_dir)
    rdir = out / fmt.run_dir(run.id)
    full = sorted(p.name for p in rdir.glob("m0-*.js") if "open" not in p.name)
    assert full == ["m0-0000.js", "m0-0001.js", "m0-0002.js", "m0-0003.js"]  # 4 × 256 buckets of 1 row
    stamps = {n: (rdir / n).stat().st_mtime_ns for n in full}
    again = export_project("inc", out, trackio_dir)
    assert again.files_written == 0  # nothing changed, nothing written

    trackio.init(project="inc", name="r", resume="allow", auto_log_cpu=False)
    for s in range(1200, 1500):
        trackio.log({"y": float(s)})
    trackio.finish()
    third = export_project("inc", out, trackio_dir)
    assert {n: (rdir / n).stat().st_mtime_ns for n in full} == stamps  # full chunks untouched
    assert (rdir / "m0-0004.js").is_file() and (rdir / "m0-0005-open.js").is_file()
    assert not (rdir / "m0-0004-open.js").exists()
    assert third.files_written <= 5 and third.files_deleted == 1
    assert series(out, run.id, "y")["v"] == [float(s) for s in range(1500)]

    trackio.init(project="inc", name="r", resume="allow", auto_log_cpu=False)
    for s in range(1500, 2100):  # past 2,000 rows: buckets of 2, every chunk renamed
        trackio.log({"y": float(s)})
    trackio.finish()
    export_project("inc", out, trackio_dir)
    assert not list(rdir.glob("m0-*")) and (rdir / "m1-0000.js").is_file()
    got = series(out, run.id, "y")
    assert got["n"] == 1050 and got["v"][-1] == 2099.0 and got["lo"][-1] == 2098.0


def test_refuses_a_folder_that_is_not_an_export(project, tmp_path):
    directory, _, _ = project
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ExportDirNotEmpty, match="not empty and is not a trackio export"):
        export_project("webx", foreign, directory)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    with pytest.raises(ProjectNotFound):
        export_project("nope", tmp_path / "x", directory)


def test_upstream_file_with_nested_blob_rows_and_name_ids(tmp_path):
    """An old upstream file: no runs table, no run_id column, JSON as BLOB, nested objects."""
    d = tmp_path / "data"
    d.mkdir()
    conn = sqlite3.connect(d / "old.db")
    conn.executescript("""
        CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT, run_name TEXT, step INTEGER,
                              metrics TEXT);
        CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_name TEXT, config TEXT, created_at TEXT);
    """)
    for s in range(5):
        conn.execute("INSERT INTO metrics (timestamp, run_name, step, metrics) VALUES (?,?,?,?)",
                     (f"2025-01-01T00:00:0{s}", "a/../b <x>", s, json.dumps({"train": {"loss": s / 10}}).encode()))
    conn.commit()
    conn.close()
    out = tmp_path / "site"
    export_project("old", out, d)
    index = read(out, fmt.PROJECT_FILE)
    (entry,) = index["runs"]
    assert entry["name"] == "a/../b <x>" and entry["status"] == "unknown"
    assert entry["key"].startswith("x") and len(entry["key"]) == 41  # hashed: the id is not a safe folder
    chunk = read(out, f"data/runs/{entry['key']}/m0-0000-open.js")
    assert chunk["v"]["train/loss"] == [0, 0.1, 0.2, 0.3, 0.4] and chunk["s"] == [0, 1, 2, 3, 4]


def test_spacefmt_names_and_wrapping():
    assert fmt.level_for(0) == 0 and fmt.level_for(2000) == 0 and fmt.level_for(2001) == 1
    assert fmt.level_for(100_000) == 6  # 1,563 buckets of 64 rows
    assert fmt.parse_view_name(fmt.view_name("m", 6, 3, True)) == ("m", 6, 3, True)
    assert fmt.parse_raw_name(fmt.raw_name("alerts", 10, 20)) == ("alerts", 10, 20)
    assert fmt.parse_raw_name("metrics-1-2.jsonl") is None
    blob = fmt.wrap("runs/abc", fmt.dumps({"name": "</script><img src=x>", "v": [1, "NaN"]}))
    assert fmt.unwrap(blob) == ("runs/abc", {"name": "</script><img src=x>", "v": [1, "NaN"]})
    assert blob.split(b",\n", 1)[1].startswith(b'"{')  # the JSON travels as a string (see spacefmt)
    assert fmt.unwrap(b'__trackio("k",\n{"__proto__":1}\n);\n') == ("k", {"__proto__": 1})  # first layout
    with pytest.raises(ValueError):
        fmt.unwrap(b"alert(1)")
    assert fmt.run_key("0" * 32) == "0" * 32
    assert fmt.run_key("../x") != "../x" and "/" not in fmt.run_key("../x")


def test_downsample_mixed_columns():
    rows = [{"a": 1.0}, {"a": None, "b": "s"}, {"a": "NaN", "b": 2}, {"a": 4.0}, {"c": [1]}]
    ends, got = downsample(rows, 2)
    assert ends == [1, 3, 4]
    assert got["a"].last == [1.0, 4.0, None] and got["a"].lo is None  # one number per bucket at most
    assert got["b"].last == [None, 2, None] and got["b"].at == [None, 2, None]  # not the bucket's last row
    assert "c" not in got
    ends, got = downsample([{"a": "NaN"}, {"a": 2.0}, {"a": 5.0}, {"a": "Infinity"}], 2)
    assert got["a"].last == [2.0, "Infinity"] and got["a"].lo == [2.0, 5.0] and got["a"].hi == [2.0, 5.0]


def test_wide_runs_split_view_chunks_under_the_size_limit(trackio_dir, tmp_path, monkeypatch):
    """Many metrics: a chunk is split by metrics into parts, each under CHUNK_BYTES (the Hub takes
    plain uploads up to 10 MB only), and the series read back whole."""
    import trackio

    monkeypatch.setattr(fmt, "CHUNK_BYTES", 60_000)
    run = trackio.init(project="wide", name="w", auto_log_cpu=False)
    for s in range(600):
        trackio.log({f"layer{i:03d}/grad": (s * 7 + i) % 101 / 100 for i in range(120)})
    trackio.finish()
    out = tmp_path / "site"
    export_project("wide", out, trackio_dir)
    rdir = out / fmt.run_dir(run.id)
    sizes = {p.name: p.stat().st_size for p in rdir.glob("m*.js")}
    assert any("-p" in name for name in sizes) and max(sizes.values()) < 70_000, sizes
    manifest = read(out, fmt.run_file(run.id))
    assert sorted(manifest["streams"]["m"]["chunks"]) == sorted(sizes)
    for i in (0, 57, 119):
        got = series(out, run.id, f"layer{i:03d}/grad")
        assert got["n"] == 600 and got["v"] == [(s * 7 + i) % 101 / 100 for s in range(600)]
    full = {n: (rdir / n).stat().st_mtime_ns for n in sizes if "open" not in n}
    trackio.init(project="wide", name="w", resume="allow", auto_log_cpu=False)
    for s in range(600, 700):
        trackio.log({f"layer{i:03d}/grad": 0.5 for i in range(120)})
    trackio.finish()
    export_project("wide", out, trackio_dir)
    after = {p.name for p in rdir.glob("m*.js")}
    assert {n: (rdir / n).stat().st_mtime_ns for n in full} == full  # full chunks and their parts kept
    assert sorted(read(out, fmt.run_file(run.id))["streams"]["m"]["chunks"]) == sorted(after)  # no stale part
    assert series(out, run.id, "layer119/grad")["v"][-1] == 0.5
