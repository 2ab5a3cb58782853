"""Decoding of stored JSON cells: TEXT (ours) or BLOB (upstream), flattened on read (contract §2.4).

Upstream trackio writes the ``metrics``/``config`` columns as orjson bytes (``typeof() = 'blob'``)
and keeps nested objects; we write compact UTF-8 TEXT, already flattened. Readers go through these
functions so that ``train/loss`` is found whichever version wrote it.
"""

from __future__ import annotations

import json
import math

NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
# Upstream files written with Python's json (before orjson) may hold bare NaN/Infinity tokens: they
# decode straight to the contract's strings.
_decoder = json.JSONDecoder(parse_constant={"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}.get)


def decode_json(raw):
    """Decode a JSON column value stored as TEXT (ours) or BLOB (upstream); ``None`` if invalid.

    Bare ``NaN``/``Infinity``/``-Infinity`` tokens (older upstream files) decode to the contract's
    strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
    """
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str):
        return None
    try:
        return _decoder.decode(raw)
    except ValueError:
        return None


def flatten(obj: dict, prefix: str = "", out: dict | None = None) -> dict:
    """Flatten nested mappings into ``/``-joined keys (contract §1.6 rule, applied on read).

    Mappings with a ``_type`` key are media values and stay whole; an empty nested mapping gives no
    key; on a collision the last value wins (the key moves to its last position).
    """
    out = {} if out is None else out
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "_type" not in v:
            flatten(v, key + "/", out)
        else:
            out.pop(key, None)
            out[key] = v
    return out


def decode_row(raw) -> dict:
    """A stored ``metrics`` cell as a flat dict (``{}`` when unreadable or not an object)."""
    obj = decode_json(raw)
    if not isinstance(obj, dict):
        return {}
    for v in obj.values():
        if isinstance(v, dict) and "_type" not in v:
            return flatten(obj)
    return obj


def finite(value):
    """``value`` (decoded JSON or an SQL cell) with every non-finite float (at any depth) replaced by its contract string."""
    if isinstance(value, float):
        return value if math.isfinite(value) else NONFINITE[repr(value)]
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value
