"""Raw row chunks for a synced Space: every stored row, append-only, so the Space is a full copy.

For each run and table (``metrics``, ``system_metrics``, ``alerts``) the rows, in logging order,
go up as JSON Lines files named by the range of row positions they hold
(:func:`trackio.store.spacefmt.raw_name`). A sync uploads only the rows past what the Space already
has, as a new file; files are never rewritten, except that small files are merged by size tiers, as
in a log-structured merge: a file of ``r`` rows is in tier ``floor(log_8 r)``, and once
:data:`MERGE_AT` files of the same tier end the list they become one file of the next tier. So a run
synced a few rows at a time keeps at most 7 small files per tier (a bounded file count for
``--space`` reads), and each row is sent again only once per tier it climbs (about 4 times at most
before it sits in a full file of :data:`~trackio.store.spacefmt.RAW_ROWS` rows). Line formats (values exactly as stored; ``metrics`` is the stored JSON object):

- metrics: ``[step, timestamp, metrics]``
- system_metrics: ``[timestamp, metrics]``
- alerts: ``[timestamp, title, text, level, step, alert_id]``
"""

from __future__ import annotations

import json

from ..store import spacefmt as fmt
from ..store.reader import decode_json
from ..store.runs import RunRow
from . import data

MERGE_AT = 8  # small files of one size tier at the end of a run's table that are merged into one
_COLS = {"metrics": "step, timestamp, metrics", "system_metrics": "timestamp, metrics"}


def _json_text(raw) -> str:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raw = None
    if isinstance(raw, str) and raw[:1] == "{" and raw[-1:] == "}" and "\n" not in raw:
        return raw
    obj = decode_json(raw)
    return fmt.dumps(obj if isinstance(obj, dict) else {})


def _line(table: str, row: tuple) -> str:
    if table == "metrics":
        _, step, ts, metrics = row
        return f"[{int(step)},{json.dumps(ts)},{_json_text(metrics)}]"
    if table == "system_metrics":
        _, ts, metrics = row
        return f"[{json.dumps(ts)},{_json_text(metrics)}]"
    _, ts, title, text, level, step, alert_id = row
    return fmt.dumps([ts, title, text, level, step, alert_id])


def _rows(conn, table: str, ids: list[int]) -> list[tuple]:
    if table == "alerts":
        return data.alert_rows(conn, ids)
    return data.rows_from(conn, table, ids, _COLS[table])


def build_raw(conn, run: RunRow, sink, rdir: str, force: bool = False) -> dict:
    """Add the run's new raw chunks to ``sink`` (and merge/delete as needed); return the run's
    chunk lists ``{table: [[file name, first, end], ...]}`` covering rows ``0 … n`` contiguously.

    ``force``: write every row again (files of :data:`~trackio.store.spacefmt.RAW_ROWS` rows) instead
    of trusting what the sink holds, so a file that differs from the project is replaced (the sink
    sends only files whose content changed) and any other raw file is deleted."""
    folder = f"{rdir}/raw"
    existing = sink.names(folder)
    out = {}
    for table in fmt.RAW_TABLES:
        segs = []
        for name in existing:
            parsed = fmt.parse_raw_name(name)
            if parsed and parsed[0] == table:
                segs.append((parsed[1], parsed[2], name))
        segs.sort()
        kept, have = [], 0
        for first, end, name in ([] if force else segs):
            if first == have and end > first:
                kept.append((first, end, name))
                have = end
        ids = data.row_ids(conn, table, run.id)
        n = len(ids)
        if n > have:
            start = _merge_start(kept, have, n)
            kept = [seg for seg in kept if seg[1] <= start]
            kept.extend(_write(conn, table, ids, start, n, sink, folder))
        final = {name for _, _, name in kept}
        for name in existing:
            parsed = fmt.parse_raw_name(name)
            if parsed and parsed[0] == table and name not in final:
                sink.delete(f"{folder}/{name}")
        if kept:
            out[table] = [[name, first, end] for first, end, name in kept]
    return out


def _tier(rows: int) -> int:
    """``floor(log_MERGE_AT(rows))`` for ``rows >= 1``: the size tier of a small file."""
    tier = 0
    while rows >= MERGE_AT ** (tier + 1):
        tier += 1
    return tier


def _merge_start(kept: list[tuple], have: int, n: int) -> int:
    """Where to start writing when rows ``have … n`` are new: ``have``, or the first row of the
    trailing small files that merge with them (see the module doc)."""
    segs = [(first, end) for first, end, _ in kept] + [(have, n)]
    while True:
        last = _tier(segs[-1][1] - segs[-1][0])
        tail = 0
        for first, end in reversed(segs):
            if end - first >= fmt.RAW_ROWS or _tier(end - first) != last:
                break
            tail += 1
        if tail < MERGE_AT:
            break
        segs[-tail:] = [(segs[-tail][0], segs[-1][1])]
    return segs[-1][0]  # every merge includes the new rows, so the last segment is the one to write


def _write(conn, table: str, ids: list[int], start: int, end: int, sink, folder: str) -> list[tuple]:
    """Write rows ``start … end`` as files of at most RAW_ROWS rows / RAW_BYTES bytes."""
    made = []
    lines: list[bytes] = []
    size = 0
    first = start
    pos = start
    step = 5000
    for lo in range(start, end, step):
        for row in _rows(conn, table, ids[lo:min(end, lo + step)]):
            line = _line(table, row).encode("utf-8")
            if lines and (len(lines) >= fmt.RAW_ROWS or size + len(line) + 1 > fmt.RAW_BYTES):
                made.append(_flush(table, first, pos, lines, sink, folder))
                lines, size, first = [], 0, pos
            lines.append(line)
            size += len(line) + 1
            pos += 1
    if lines:
        made.append(_flush(table, first, pos, lines, sink, folder))
    return made


def _flush(table, first, end, lines, sink, folder) -> tuple:
    name = fmt.raw_name(table, first, end)
    sink.put(f"{folder}/{name}", b"\n".join(lines) + b"\n")
    return first, end, name
