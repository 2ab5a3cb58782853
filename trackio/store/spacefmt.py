"""Layout of the static web export and of a synced Space's data files (format 1).

Written by ``trackio.web`` (export, sync) and read back by :mod:`trackio.store.remote`, so both sides
share these names. Everything is small UTF-8 text, so an upload never needs LFS/Xet:

- ``data/project.js``: the project index (project name, one summary per run, each with the ``rev``
  of its ``run.js``).
- ``data/runs/<run_id>/run.js``: one run: name, status, config, alerts, and the list of its chunk
  files. Files are named by run id, so several machines training into one project never write the
  same data file; only ``project.js`` is merged (see ``trackio.web.sync``).
- ``data/runs/<run_id>/<stream><level>-<index>.js``: a view chunk, :data:`CHUNK_BUCKETS` buckets of
  the downsampled series (``m`` = metrics, ``s`` = system metrics; bucket width ``2**level`` rows).
  A full chunk never changes again at that level; the one still filling is named ``…-open.js``. A
  chunk whose text would pass :data:`CHUNK_BYTES` is split by metrics into parts ``…-p1.js``,
  ``…-p2.js`` … (each with the chunk's steps and times and its own metrics), so no file comes near
  the Hub's 10 MB limit for plain (non-LFS/Xet) uploads.
- ``data/runs/<run_id>/raw/<table>-<first>-<end>.jsonl``: the run's rows ``first ≤ i < end`` (i = the
  row's position in logging order within the run) exactly as stored, one JSON array per line. Synced
  Spaces only; this is what ``--space`` reads back and what outlives the training machine.

The ``.js`` files are JSON wrapped in one JavaScript call, ``__trackio("<key>","<JSON text>");``, so
the page also loads them from ``file://`` (browsers refuse ``fetch`` there but run ``<script>`` files).
The JSON travels as a string literal and the page parses it with ``JSON.parse``: as a JavaScript
object literal, a key named ``__proto__`` would set the object's prototype instead of adding the key.
Files of the first layout (``__trackio("<key>",{...});``) are still read.
"""

from __future__ import annotations

import hashlib
import json
import re

FORMAT = 1
MAX_POINTS = 2000  # most buckets per series (the downsampling target)
CHUNK_BUCKETS = 256  # buckets per view chunk file
RAW_ROWS = 10_000  # rows per raw chunk file at most
RAW_BYTES = 4_000_000  # bytes per raw chunk file at most (well under the Hub's 10 MB plain-file limit)
CHUNK_BYTES = 4_000_000  # bytes of JSON per view chunk file at most (more metrics go to further parts)
DATA = "data"
PROJECT_FILE = "data/project.js"
STREAMS = {"m": "metrics", "s": "system_metrics"}
RAW_TABLES = ("metrics", "system_metrics", "alerts")

_CALL = "__trackio("
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_RAW_NAME = re.compile(r"^(metrics|system_metrics|alerts)-(\d{10})-(\d{10})\.jsonl$")
_VIEW_NAME = re.compile(r"^([ms])(\d{1,2})-(\d{4})(-open)?(?:-p(\d{1,3}))?\.js$")


def run_key(run_id: str) -> str:
    """The folder name of a run: its id when that is a plain token (ours are 32 hex digits), else
    ``x`` + the SHA-1 of the id (files from old upstream versions use run names as ids, which may hold
    ``/``, ``..`` or markup)."""
    if _SAFE_ID.match(run_id):
        return run_id
    return "x" + hashlib.sha1(run_id.encode("utf-8", "surrogatepass")).hexdigest()


def run_dir(run_id: str) -> str:
    """``data/runs/<run_key(run_id)>``."""
    return f"{DATA}/runs/{run_key(run_id)}"


def run_file(run_id: str) -> str:
    """Path of a run's manifest, ``data/runs/<key>/run.js``."""
    return f"{run_dir(run_id)}/run.js"


def view_name(stream: str, level: int, index: int, open_: bool, part: int = 0) -> str:
    """File name of part ``part`` of view chunk ``index`` of ``stream`` (``m``/``s``) at ``level``."""
    return f"{stream}{level}-{index:04d}{'-open' if open_ else ''}{f'-p{part}' if part else ''}.js"


def parse_view_name(name: str):
    """``(stream, level, index, open)`` for a view chunk file name (any part), else None."""
    m = _VIEW_NAME.match(name)
    if not m:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3)), bool(m.group(4))


def view_part(name: str) -> int:
    """The part number of a view chunk file name (0 for the first part or a non-chunk name)."""
    m = _VIEW_NAME.match(name)
    return int(m.group(5)) if m and m.group(5) else 0


def raw_name(table: str, first: int, end: int) -> str:
    """File name of the raw chunk holding rows ``first ≤ i < end`` of ``table``."""
    return f"{table}-{first:010d}-{end:010d}.jsonl"


def parse_raw_name(name: str):
    """``(table, first, end)`` for a raw chunk file name, else None."""
    m = _RAW_NAME.match(name)
    if not m:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3))


def level_for(rows: int) -> int:
    """Smallest level ``L`` with ``ceil(rows / 2**L) <= MAX_POINTS`` (bucket width ``2**L`` rows)."""
    level = 0
    while -(-rows // (1 << level)) > MAX_POINTS:
        level += 1
    return level


def dumps(obj) -> str:
    """Compact UTF-8 JSON (no NaN tokens: non-finite floats are already the strings)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def wrap(key: str, body: str) -> bytes:
    """A data ``.js`` file: the JSON text ``body`` as a string literal, ``__trackio("<key>","<body>");``
    (a JSON string is a valid JavaScript string literal since ES2019; see the module doc)."""
    return f"{_CALL}{json.dumps(key)},\n{json.dumps(body, ensure_ascii=False)}\n);\n".encode("utf-8")


def unwrap(data: bytes | str):
    """``(key, object)`` from a data ``.js`` file written by :func:`wrap`.

    Raises:
        ValueError: the text is not such a file.
    """
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if not text.startswith(_CALL) or not text.endswith("\n);\n"):
        raise ValueError("not a trackio data file")
    head, _, rest = text[len(_CALL):].partition(",\n")
    obj = json.loads(rest[: -len("\n);\n")])
    return json.loads(head), (json.loads(obj) if isinstance(obj, str) else obj)
