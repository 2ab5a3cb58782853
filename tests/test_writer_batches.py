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
