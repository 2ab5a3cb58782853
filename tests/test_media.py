"""Media objects (contract §1.10): Table, Image, Histogram, Trace logged through the real API and read
back from the SQLite file and the media folder with plain sqlite3 and Pillow."""

from __future__ import annotations

import json
import warnings

import pytest

from conftest import db_rows, run_python

np = pytest.importorskip("numpy")
PIL = pytest.importorskip("PIL.Image")


def _log_one(trackio_dir, values, project="media", name="run"):
    """Log one row into a fresh run and return it as stored (decoded JSON)."""
    import trackio

    trackio.init(project=project, name=name)
    trackio.log({"before": 1})
    trackio.log(values)
    trackio.finish()
    from trackio.store.paths import canon

    rows = db_rows(trackio_dir, canon(project), "SELECT step, metrics FROM metrics ORDER BY id")
    assert rows[-1][0] == 1
    return json.loads(rows[-1][1])


# -- Table ---------------------------------------------------------------------------------------------

def test_table_from_columns_and_rows(trackio_dir):
    import trackio

    tables = {
        "zipped": trackio.Table(columns=["a", "b"], data=[[1, "x"], [2.5, None], [3]]),
        "extra_cells": trackio.Table(columns=["a"], data=[[1, 2, 3]]),
        "no_columns": trackio.Table(data=[["p", "q"]]),
        "dicts": trackio.Table(data=[{"k": 1}, {"k": 2, "j": True}]),
        "rows_alias": trackio.Table(columns=["c"], rows=[[7]]),
        "empty": trackio.Table(columns=["a"]),
    }
    row = _log_one(trackio_dir, tables)
    assert row["zipped"] == {"_type": "trackio.table",
                             "_value": [{"a": 1, "b": "x"}, {"a": 2.5, "b": None}, {"a": 3, "b": None}]}
    assert row["extra_cells"]["_value"] == [{"a": 1, "1": 2, "2": 3}]
    assert row["no_columns"]["_value"] == [{"0": "p", "1": "q"}]
    assert row["dicts"]["_value"] == [{"k": 1}, {"k": 2, "j": True}]
    assert row["rows_alias"]["_value"] == [{"c": 7}]
    assert row["empty"] == {"_type": "trackio.table", "_value": []}


def test_table_cells_follow_log_rules_and_unsupported_become_strings(trackio_dir):
    import trackio

    class Thing:
        def __str__(self):
            return "a thing"

    table = trackio.Table(columns=["nan", "np", "arr", "obj", "nested", "tuple"],
                          data=[[float("nan"), np.float32(0.5), np.arange(3), Thing(), {"x": float("inf")}, (1, 2)]])
    row = _log_one(trackio_dir, {"t": table})
    assert row["t"]["_value"] == [{"nan": "NaN", "np": 0.5, "arr": str(np.arange(3)), "obj": "a thing",
                                   "nested": {"x": "Infinity"}, "tuple": [1, 2]}]


def test_table_from_any_to_dict_records_object_and_bad_dataframe(trackio_dir):
    import trackio

    class Frame:
        def to_dict(self, orient):
            assert orient == "records"
            return [{"step": 1, "completion": "hi"}]

    assert trackio.Table(dataframe=Frame()).data == [{"step": 1, "completion": "hi"}]
    with pytest.raises(TypeError) as e:
        trackio.Table(dataframe=[1, 2])
    assert str(e.value) == "The `dataframe` argument must support `to_dict(orient='records')`."
    with pytest.raises(TypeError, match="Table rows must be dicts or lists of cells, got int"):
        trackio.Table(columns=["a"], data=[1])


def test_table_from_pandas_with_image_lists_like_trl(trackio_dir):
    """TRL's GRPO completions table: a DataFrame whose ``image`` column holds lists of Images."""
    pd = pytest.importorskip("pandas")
    import trackio

    pic = PIL.new("RGB", (3, 2), (255, 0, 0))
    df = pd.DataFrame({"step": [4, 4], "prompt": ["p1", "p2"], "completion": ["c1", "c2"],
                       "reward": [0.5, float("nan")], "image": [[trackio.Image(pic)], []]})
    row = _log_one(trackio_dir, {"completions": trackio.Table(dataframe=df)}, name="grpo")
    rows = row["completions"]["_value"]
    assert [r["prompt"] for r in rows] == ["p1", "p2"] and rows[1]["reward"] == "NaN" and rows[1]["image"] == []
    (img,) = rows[0]["image"]
    assert img["_type"] == "trackio.image" and img["file_path"].startswith("media/grpo/1/")
    with PIL.open(trackio_dir / "media" / img["file_path"]) as saved:
        assert saved.size == (3, 2) and saved.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


# -- Image ---------------------------------------------------------------------------------------------

def test_images_from_arrays_pil_and_paths(trackio_dir, tmp_path):
    import trackio

    jpg = tmp_path / "photo.jpg"
    PIL.new("RGB", (5, 5), (0, 128, 0)).save(jpg)
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[0, 0] = (10, 20, 30)
    images = {
        "rgb": trackio.Image(rgb, caption="an rgb array"),
        "gray_float": trackio.Image(np.full((4, 4), 0.5)),
        "rgba": trackio.Image(np.zeros((2, 2, 4), dtype=np.uint8)),
        "chw": trackio.Image(np.ones((3, 6, 5), dtype=np.float32)),
        "hw1": trackio.Image(np.zeros((4, 4, 1), dtype=np.int64) + 300),
        "pil": trackio.Image(PIL.new("CMYK", (2, 2))),
        "path": trackio.Image(str(jpg), caption="copied"),
    }
    row = _log_one(trackio_dir, images, project="my.proj", name="a/b")
    for key, value in row.items():
        if key == "before":
            continue
        assert value["_type"] == "trackio.image"
        assert value["file_path"].startswith("myproj/a_b/1/"), value
    assert row["rgb"]["caption"] == "an rgb array" and row["gray_float"]["caption"] is None
    root = trackio_dir / "media"
    with PIL.open(root / row["rgb"]["file_path"]) as im:
        assert (im.format, im.size, im.getpixel((0, 0))) == ("PNG", (3, 2), (10, 20, 30))
    with PIL.open(root / row["gray_float"]["file_path"]) as im:
        assert im.mode == "L" and im.getpixel((1, 1)) == 128
    with PIL.open(root / row["chw"]["file_path"]) as im:
        assert im.size == (5, 6) and im.getpixel((0, 0)) == (255, 255, 255)
    with PIL.open(root / row["hw1"]["file_path"]) as im:
        assert im.size == (4, 4) and im.getpixel((0, 0)) == 255
    assert row["path"]["file_path"].endswith(".jpg")
    assert (root / row["path"]["file_path"]).read_bytes() == jpg.read_bytes()


def test_image_errors(trackio_dir, tmp_path):
    import trackio

    missing = tmp_path / "nope.png"
    with pytest.raises(ValueError) as e:
        trackio.Image(str(missing))
    assert str(e.value) == f"File not found: {missing}"

    trackio.init(project="media", name="bad")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trackio.log({"img": trackio.Image(np.zeros(5)), "loss": 0.5,
                     "t": trackio.Table(columns=["i"], data=[[trackio.Image(np.zeros(5))]])})
    trackio.finish()
    texts = [str(w.message) for w in caught]
    assert texts == [
        "trackio.log() skipped metric 'img': cannot make an image from an array of shape (5,) and dtype "
        "float64 (expected H×W, H×W×3 or H×W×4)",
        "trackio.log() skipped metric 't': cannot make an image from an array of shape (5,) and dtype "
        "float64 (expected H×W, H×W×3 or H×W×4)",
    ]
    assert all(w.filename == __file__ for w in caught), "warnings point at the caller's line"
    assert db_rows(trackio_dir, "media", "SELECT metrics FROM metrics") == [('{"loss":0.5}',)]


def test_image_without_pillow_skips_the_key(trackio_dir):
    proc = run_python(
        "import sys; sys.modules['PIL'] = None\n"
        "import numpy as np, trackio, warnings\n"
        "warnings.simplefilter('always')\n"
        "trackio.init(project='nopil', name='r')\n"
        "trackio.log({'img': trackio.Image(np.zeros((2, 2))), 'x': 1})\n"
        "trackio.finish()\n")
    assert proc.returncode == 0, proc.stderr
    assert "trackio.log() skipped metric 'img': saving images needs Pillow" in proc.stderr
    assert db_rows(trackio_dir, "nopil", "SELECT metrics FROM metrics") == [('{"x":1}',)]


# -- Histogram and Trace -------------------------------------------------------------------------------

def test_histogram(trackio_dir):
    import trackio

    samples = [0.0, 1.0, 1.0, 2.0, float("nan"), float("inf")]
    h = trackio.Histogram(samples, num_bins=2)
    big = trackio.Histogram(np.random.default_rng(0).normal(size=2000), num_bins=10_000)
    counts, edges = np.histogram([1, 2, 2, 3], bins=3)
    given = trackio.Histogram(np_histogram=(counts, edges))
    row = _log_one(trackio_dir, {"h": h, "big": big, "given": given, "in": {"nested": h}})
    assert row["h"] == {"_type": "trackio.histogram", "bins": [0.0, 1.0, 2.0], "values": [1, 3]}
    assert len(row["big"]["values"]) == 512 and len(row["big"]["bins"]) == 513
    assert sum(row["big"]["values"]) == 2000
    assert row["given"] == {"_type": "trackio.histogram", "bins": edges.tolist(), "values": [1, 2, 1]}
    assert row["in/nested"] == row["h"], "media dicts are never flattened; the key path is"
    with pytest.raises(ValueError, match="^Must provide either sequence or np_histogram$"):
        trackio.Histogram()
    with pytest.raises(ValueError, match="^Cannot provide both sequence and np_histogram$"):
        trackio.Histogram([1], np_histogram=(counts, edges))


def test_histogram_of_a_torch_tensor_requiring_grad(trackio_dir):
    torch = pytest.importorskip("torch")
    import trackio

    w = torch.ones(10, requires_grad=True)
    assert trackio.Histogram(w, num_bins=1).values == [10]


def test_traces_single_and_list(trackio_dir):
    import trackio

    t1 = trackio.Trace(messages=[{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
                       metadata={"reward": np.float64(1.0), "version": np.int64(3), "obj": object})
    t2 = trackio.Trace([{"role": "user", "content": "hi", "score": float("nan")}])
    row = _log_one(trackio_dir, {"rollout": t1, "rollouts": [t1, t2]})
    one = {"_type": "trackio.trace",
           "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
           "metadata": {"reward": 1.0, "version": 3, "obj": str(object)}}
    assert row["rollout"] == one
    assert row["rollouts"] == [one, {"_type": "trackio.trace",
                                     "messages": [{"role": "user", "content": "hi", "score": "NaN"}],
                                     "metadata": {}}]


def test_media_rows_read_back_whole_through_the_store_reader(trackio_dir):
    import trackio
    from trackio.store.reader import decode_row, open_project

    row = _log_one(trackio_dir, {"eval": {"table": trackio.Table(data=[{"a": 1}]), "acc": 0.5}})
    assert set(row) == {"eval/table", "eval/acc"}
    conn = open_project("media")
    try:
        (raw,) = conn.execute("SELECT metrics FROM metrics ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert decode_row(raw) == {"eval/table": {"_type": "trackio.table", "_value": [{"a": 1}]}, "eval/acc": 0.5}
