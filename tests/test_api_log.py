"""log(): steps, value rules, flattening, reserved keys, warnings, timestamps (contract §1.6)."""

from __future__ import annotations

import json
import time
import warnings
from datetime import datetime

import pytest
from conftest import db_rows

import trackio


def _stored(d, project="p"):
    return [(step, json.loads(m)) for step, m in db_rows(d, project, "SELECT step, metrics FROM metrics ORDER BY id")]


def test_worked_step_example(trackio_dir):
    trackio.init(project="p", name="s")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in [None, 10, None, 5, None, 12, -3, 2.0, 2.7, "9"]:
            trackio.log({"v": 1}, step=step)
    trackio.finish()
    assert [s for s, _ in _stored(trackio_dir)] == [0, 10, 11, 5, 12, 12, -3, 2, 13, 14]
    texts = [str(w.message) for w in caught]
    assert texts == [
        "trackio.log() ignored invalid step 2.7 (steps must be integers); logged at step 13.",
        "trackio.log() ignored invalid step '9' (steps must be integers); logged at step 14.",
    ]


@pytest.mark.parametrize("bad", [True, float("nan"), float("inf"), 2**63, -(2**63) - 1, [1], None.__class__])
def test_invalid_steps_use_the_implicit_step(trackio_dir, bad):
    trackio.init(project="p", name="s")
    trackio.log({"v": 0})
    with pytest.warns(UserWarning, match=r"ignored invalid step .* logged at step 1\.$"):
        trackio.log({"v": 1}, step=bad)
    trackio.finish()
    assert [s for s, _ in _stored(trackio_dir)] == [0, 1]


def test_exact_64_bit_steps(trackio_dir):
    trackio.init(project="p", name="s")
    big, small = 2**63 - 1, -(2**63)
    trackio.log({"v": 1}, step=big - 1)
    trackio.log({"v": 2})
    trackio.log({"v": 3}, step=small)
    trackio.log({"v": 4}, step=9007199254740993)  # not representable as a double
    trackio.finish()
    assert [s for s, _ in _stored(trackio_dir)] == [big - 1, big, small, 9007199254740993]


def test_numpy_values_and_steps(trackio_dir):
    np = pytest.importorskip("numpy")
    trackio.init(project="p", name="np")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trackio.log({"f32": np.float32(0.5), "i64": np.int64(7), "b": np.bool_(True), "nan": np.float64("nan"),
                     "arr0": np.array(2.5), "arr": np.zeros(3), "ok": 1}, step=np.int64(4))
        trackio.log({"v": 1}, step=np.float64(6.0))
    trackio.finish()
    assert _stored(trackio_dir) == [(4, {"f32": 0.5, "i64": 7, "b": True, "nan": "NaN", "arr0": 2.5, "ok": 1}),
                                    (6, {"v": 1})]
    assert [str(w.message) for w in caught] == [
        "trackio.log() skipped metric 'arr': Type is not JSON serializable: numpy.ndarray"]


def test_value_rules(trackio_dir):
    trackio.init(project="p", name="v")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trackio.log({
            "i": 3, "f": 1.5, "s": "hello", "t": True, "n": None,
            "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
            "list": [1, 2.5, float("nan"), "x", (1, 2)], "badlist": [1, object()],
            "obj": object(), "uni": "résumé 🚀",
        })
    trackio.finish()
    assert _stored(trackio_dir) == [(0, {
        "i": 3, "f": 1.5, "s": "hello", "t": True, "n": None, "nan": "NaN", "inf": "Infinity",
        "ninf": "-Infinity", "list": [1, 2.5, "NaN", "x", [1, 2]], "uni": "résumé 🚀"})]
    assert [str(w.message) for w in caught] == [
        "trackio.log() skipped metric 'badlist': Type is not JSON serializable: object",
        "trackio.log() skipped metric 'obj': Type is not JSON serializable: object",
    ]
    # JSON text is compact UTF-8 TEXT without NaN tokens
    (text, kind), = db_rows(trackio_dir, "p", "SELECT metrics, typeof(metrics) FROM metrics")
    assert kind == "text" and "résumé 🚀" in text and ", " not in text and "NaN\"" in text


def test_flattening_collisions_and_media_dicts(trackio_dir):
    trackio.init(project="p", name="flat")
    trackio.log({"train": {"loss": 1, "acc": {"top1": 0.5}}, "empty": {}, "train/loss": 2,
                 "img": {"_type": "trackio.image", "file_path": "x.png", "caption": None}})
    trackio.finish()
    assert _stored(trackio_dir) == [(0, {"train/acc/top1": 0.5, "train/loss": 2,
                                         "img": {"_type": "trackio.image", "file_path": "x.png", "caption": None}})]


def test_reserved_and_non_string_keys(trackio_dir):
    trackio.init(project="p", name="k")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trackio.log({"step": 1, "time": 2, "__x": 3, 5: "five", "nested": {7: 1, "ok": 2}, "a": {"step": 4}})
    trackio.finish()
    assert _stored(trackio_dir) == [(0, {"__step": 1, "__time": 2, "____x": 3, "nested/ok": 2, "a/step": 4})]
    assert [str(w.message) for w in caught] == [
        "trackio.log() skipped metric 5: metric names must be strings",
        "trackio.log() skipped metric 7: metric names must be strings",
        "Reserved keys renamed: ['step', 'time', '__x'] → '__{key}'",
    ]


def test_all_keys_skipped_still_stores_a_row_and_uses_a_step(trackio_dir):
    trackio.init(project="p", name="e")
    with pytest.warns(UserWarning):
        trackio.log({"bad": object()})
    trackio.log({"v": 1})
    trackio.finish()
    assert _stored(trackio_dir) == [(0, {}), (1, {"v": 1})]


def test_non_mapping_is_rejected_with_a_warning(trackio_dir):
    trackio.init(project="p", name="m")
    with pytest.warns(UserWarning, match=r"^trackio.log\(\) failed to process metrics: expected a dict, got list$"):
        trackio.log([1, 2])
    trackio.log({"v": 1})
    trackio.finish()
    assert _stored(trackio_dir) == [(0, {"v": 1})]


def test_warnings_point_at_the_callers_line(trackio_dir):
    run = trackio.init(project="p", name="w")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trackio.log({"x": object()})
        run.log({"x": object()})
        trackio.log({"v": 1}, step="bad")
        trackio.alert("t", level="nope")
    assert {w.filename for w in caught} == {__file__}


def test_timestamps_are_call_times(trackio_dir):
    trackio.init(project="p", name="t")
    before = time.time()
    trackio.log({"v": 1})
    time.sleep(0.3)
    mid = time.time()
    trackio.log({"v": 2})
    trackio.finish()
    (t1,), (t2,) = db_rows(trackio_dir, "p", "SELECT timestamp FROM metrics ORDER BY id")
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", t1)
    a, b = datetime.fromisoformat(t1).timestamp(), datetime.fromisoformat(t2).timestamp()
    assert before <= a < before + 0.05 and mid <= b < mid + 0.05 and b - a >= 0.3


def test_rows_from_many_threads_all_land_in_call_order_per_thread(trackio_dir):
    import threading

    trackio.init(project="p", name="threads")

    def worker(k):
        for i in range(500):
            trackio.log({"k": k, "i": i})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trackio.finish()
    rows = _stored(trackio_dir)
    assert sorted(s for s, _ in rows) == list(range(2000)) and [s for s, _ in rows] == list(range(2000))
    for k in range(4):
        assert [m["i"] for _, m in rows if m["k"] == k] == list(range(500))


def test_log_system(trackio_dir):
    trackio.init(project="p", name="sys")
    trackio.log_system({"cpu": {"percent": 12.5}, "step": 1, "bad": float("nan")})
    trackio.finish()
    rows = db_rows(trackio_dir, "p", "SELECT metrics FROM system_metrics")
    assert [json.loads(r[0]) for r in rows] == [{"cpu/percent": 12.5, "step": 1, "bad": "NaN"}]


def test_data_directory_is_resolved_at_each_init(tmp_path, monkeypatch, trackio_dir):
    trackio.init(project="p", name="a")
    trackio.finish()
    other = tmp_path / "elsewhere"
    monkeypatch.setenv("TRACKIO_DIR", str(other))
    trackio.init(project="p", name="b")
    trackio.finish()
    assert (trackio_dir / "p.db").exists() and (other / "p.db").exists()
    monkeypatch.delenv("TRACKIO_DIR")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    trackio.init(project="p", name="c")
    trackio.finish()
    assert (tmp_path / "hf" / "trackio" / "p.db").exists()


def test_strings_that_are_not_valid_utf8_are_kept_escaped(trackio_dir):
    trackio.init(project="p", name="sur")
    trackio.log({"s": "bad \udc80 text", "ok": "héllo"})
    trackio.log({"\ud800key": 1})
    trackio.finish()
    rows = [json.loads(m) for (m,) in db_rows(trackio_dir, "p", "SELECT metrics FROM metrics ORDER BY id")]
    assert rows == [{"s": "bad \udc80 text", "ok": "héllo"}, {"\ud800key": 1}]


def test_writer_flush_makes_rows_visible_without_finish(trackio_dir):
    run = trackio.init(project="p", name="fl")
    for i in range(50):
        trackio.log({"i": i})
    assert run._writer.flush(10)
    assert db_rows(trackio_dir, "p", "SELECT COUNT(*) FROM metrics") == [(50,)]
    trackio.finish()


def test_rows_land_within_a_quarter_second(trackio_dir):
    trackio.init(project="p", name="lat")
    trackio.log({"v": 1})
    deadline = time.monotonic() + 5
    t0 = time.monotonic()
    while time.monotonic() < deadline and db_rows(trackio_dir, "p", "SELECT COUNT(*) FROM metrics") != [(1,)]:
        time.sleep(0.005)
    waited = time.monotonic() - t0
    trackio.finish()
    assert waited < 1.0  # the contract's bound is 0.25 s; a loaded CI machine gets slack here
