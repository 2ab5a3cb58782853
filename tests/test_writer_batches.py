"""The writer's batch insert builds each row's timestamp in SQL from a table of per-second prefixes:
check it against format_us() for batches spanning hours, clocks stepping backwards, and merged
batches, on a real SQLite file."""

from __future__ import annotations

import time

from trackio.store import METRIC
from trackio.store.schema import connect_writer, ensure_schema
from trackio.store.timefmt import format_us
from trackio.store.writer import _MetricRows


def _insert_and_read(tmp_path, rows_obj):
    conn = connect_writer(tmp_path / "w.db")
    ensure_schema(conn)
    rows_obj.insert(conn, "r" * 32, "run")
    got = conn.execute("SELECT timestamp, step, metrics FROM metrics ORDER BY id").fetchall()
    conn.close()
    return got


def test_timestamps_match_format_us_across_spans_and_backward_clocks(tmp_path):
    now = time.time_ns() // 1000
    offsets = [0, 1, 999_999, 1_000_000, 5_000_000_000, 3_000, -2_000_000, 7_200_000_001, 12, -9_000_000_000]
    items = [(METRIC, now + off, i, {"v": i, "s": "é"}) for i, off in enumerate(offsets)]
    got = _insert_and_read(tmp_path, _MetricRows.encode(items))
    assert got == [(format_us(us), step, f'{{"v":{step},"s":"é"}}') for _, us, step, _ in items]


def test_merged_batches_keep_order_and_times(tmp_path):
    now = time.time_ns() // 1000
    a = [(METRIC, now + i * 1000, i, {"i": i}) for i in range(5)]
    b = [(METRIC, now + 5_000_000 + i, 5 + i, {"i": 5 + i}) for i in range(5)]
    c = [(METRIC, now + 4_000_000_000 + i, 10 + i, {"i": 10 + i}) for i in range(3)]  # over an hour later
    merged = _MetricRows.merge([_MetricRows.encode(a), _MetricRows.encode(b), _MetricRows.encode(c)])
    got = _insert_and_read(tmp_path, merged)
    assert got == [(format_us(us), step, f'{{"i":{step}}}') for _, us, step, _ in a + b + c]


def test_stored_text_is_what_the_standard_library_writes(tmp_path):
    """Each row's text equals compact ``json.dumps`` with non-ASCII kept: ``get metric --json`` passes
    stored number tokens straight into its output, which must read as ``json.dumps`` writes it. (orjson,
    10x faster, writes ``3e-6`` and ``0.00001`` for ``3e-06`` and ``1e-05``, which this catches.)"""
    import json
    import random

    random.seed(7)
    now = time.time_ns() // 1000
    common = [{"loss": random.random() * 10 ** random.uniform(-4, 3), "n": i, "s": "ré\u2028\x7f😀", "ok": True}
              for i in range(50)]
    small = [{"lr": random.random() * 10 ** random.uniform(-10, -4), "x": -3e-6, "y": 1.5e-05} for _ in range(50)]
    big = [{"big": 2**70, "f": 0.1}]
    for batch in (common, small, big, common + small):
        items = [(METRIC, now + i, i, row) for i, row in enumerate(batch)]
        where = tmp_path / str(len(batch)) / str(id(batch))
        where.mkdir(parents=True)
        got = _insert_and_read(where, _MetricRows.encode(items))
        assert [m for _, _, m in got] == [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in batch]
