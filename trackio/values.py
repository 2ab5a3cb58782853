"""Turning what a training script logs into JSON-safe rows (contract §1.6), in the caller's thread.

This is the ``log()`` hot path: the common case (a flat dict of ``str`` keys and finite ``float``/``int``
values) is handled by one loop with exact ``type(...) is`` checks, and everything else (nested dicts,
numpy/torch scalars, lists, media objects, reserved or non-string keys) falls through to slower code.
Problems never raise: they are collected as warning texts for the caller to emit.
"""

from __future__ import annotations

from collections.abc import Mapping

RESERVED_KEYS = frozenset({"project", "run", "timestamp", "step", "time", "metrics"})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_PLAIN = (int, str, bool, type(None))


class Unsupported(TypeError):
    """A value that cannot be stored; ``str(self)`` is the text after ``skipped metric '<key>': ``."""


def nonfinite(x: float):
    """Return ``x`` if finite, else ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if x - x == 0.0:
        return x
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def type_name(value) -> str:
    """``module.QualName`` of ``type(value)``, with ``builtins.`` dropped (``numpy.ndarray``, ``object``)."""
    t = type(value)
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}"


def _array_module(value) -> str | None:
    mod = type(value).__module__
    if mod.startswith("numpy"):
        return "numpy"
    if mod.startswith("torch"):
        return "torch"
    return None


def scalar_item(value):
    """Return ``value.item()`` for a numpy/torch scalar, 0-d array or 0-d tensor, else raise Unsupported."""
    lib = _array_module(value)
    if lib is not None:
        ndim = getattr(value, "ndim", None)
        if ndim is None and lib == "torch" and hasattr(value, "dim"):
            ndim = value.dim()
        if ndim == 0 and hasattr(value, "item"):
            return value.item()
    raise Unsupported(f"Type is not JSON serializable: {type_name(value)}")


def convert_value(value, media_ctx=None):
    """Convert one logged value to its stored JSON-safe form.

    ``media_ctx`` is passed to a media object's ``_to_dict`` (it saves files at log time). Raises
    :class:`Unsupported` for values that cannot be stored (arrays with ndim ≥ 1, arbitrary objects, a
    list holding one of those).
    """
    t = type(value)
    if t is float:
        return nonfinite(value)
    if t in _PLAIN:
        return value
    if isinstance(value, float):
        return nonfinite(float(value))
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [convert_value(v, media_ctx) for v in value]
    to_dict = getattr(value, "_to_dict", None)
    if to_dict is not None and type(value).__module__.startswith("trackio"):
        return to_dict(media_ctx)
    if isinstance(value, Mapping):
        # Only reached for media-style mappings (``_type`` key) and mappings inside lists.
        return {str(k): convert_value(v, media_ctx) for k, v in value.items()}
    return convert_value(scalar_item(value), media_ctx)


def process_metrics(metrics: Mapping, rename_reserved: bool, media_ctx=None):
    """Flatten and convert a metrics mapping.

    Returns ``(row, warnings)``: ``row`` maps flattened ``/``-joined names to stored values;
    ``warnings`` is a list of message strings (one per skipped key, plus one for renamed reserved keys).
    """
    row: dict = {}
    warns: list[str] | None = None
    renamed: list[str] | None = None
    for k, v in metrics.items():
        tv = type(v)
        if type(k) is str and (not rename_reserved or (k not in RESERVED_KEYS and k[:2] != "__")):
            if tv is float:
                row[k] = v if v - v == 0.0 else nonfinite(v)
                continue
            if tv is int or tv is str or tv is bool or v is None:
                row[k] = v
                continue
        if warns is None:
            warns, renamed = [], []
        _slow(row, k, v, "", rename_reserved, media_ctx, warns, renamed, (id(metrics),))
    if renamed:
        warns.append(f"Reserved keys renamed: {renamed!r} → '__{{key}}'")
    return row, (warns or ())


def _slow(row, key, value, prefix, rename_reserved, media_ctx, warns, renamed, path=()):
    if not isinstance(key, str):
        warns.append(f"trackio.log() skipped metric {key!r}: metric names must be strings")
        return
    full = prefix + key
    if isinstance(value, Mapping) and "_type" not in value:
        if id(value) in path:
            warns.append(f"trackio.log() skipped metric '{full}': it contains itself")
            return
        inner = path + (id(value),)
        for k2, v2 in value.items():
            _slow(row, k2, v2, full + "/", rename_reserved, media_ctx, warns, renamed, inner)
        return
    if rename_reserved and (full in RESERVED_KEYS or full.startswith("__")):
        renamed.append(full)
        full = "__" + full
    try:
        converted = convert_value(value, media_ctx)
    except Unsupported as e:
        warns.append(f"trackio.log() skipped metric '{full}': {e}")
        return
    except Exception as e:  # a media object failing to save, an odd __getattr__, ...
        warns.append(f"trackio.log() skipped metric '{full}': {e}")
        return
    row.pop(full, None)  # last value wins, and keeps the position of the last writer
    row[full] = converted


def check_step(step):
    """Validate an explicit step.

    Returns the step as an exact ``int``, or ``None`` when it is invalid (non-integral float, NaN/inf,
    string, bool, other type, outside the signed 64-bit range).
    """
    t = type(step)
    if t is int:
        return step if _INT64_MIN <= step <= _INT64_MAX else None
    if t is bool:
        return None
    if t is float or isinstance(step, float):
        if step - step == 0.0 and float(step).is_integer():
            return check_step(int(step))
        return None
    if isinstance(step, int):
        return check_step(int(step))
    if _array_module(step) is not None:
        try:
            item = scalar_item(step)
        except Unsupported:
            return None
        if type(item) is float:
            return check_step(item)
        return check_step(item) if type(item) is int else None
    return None


def to_json_safe(obj, _path: tuple = ()):
    """Make a config value JSON-safe (contract §1.4).

    Tuples/sets → lists; numpy/torch scalars → Python numbers; Enum → ``.value``; objects with
    ``__dict__`` → dict of public attributes; non-finite floats → the strings; anything else → ``str``.
    A container met again inside itself (a cycle) becomes ``"<cycle: Type>"``; nesting deeper than 50
    becomes ``str``. Never raises.
    """
    t = type(obj)
    if t is str or t is int or t is bool or obj is None:
        return obj
    if t is float:
        return nonfinite(obj)
    if id(obj) in _path:
        return f"<cycle: {type(obj).__name__}>"
    if len(_path) > 50:
        return _text(obj)
    from enum import Enum

    inner = _path + (id(obj),)
    try:
        if isinstance(obj, Enum):
            return to_json_safe(obj.value, inner)
        if isinstance(obj, float):
            return nonfinite(float(obj))
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, Mapping):
            return {_text(k): to_json_safe(v, inner) for k, v in list(obj.items())}
        if isinstance(obj, (list, tuple, set, frozenset)):
            return [to_json_safe(v, inner) for v in list(obj)]
        if _array_module(obj) is not None:
            try:
                return to_json_safe(scalar_item(obj), inner)
            except Unsupported:
                return to_json_safe(obj.tolist(), inner)
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            return {k: to_json_safe(v, inner) for k, v in list(attrs.items()) if not k.startswith("_")}
        fields = getattr(obj, "__dataclass_fields__", None)
        if isinstance(fields, dict):  # a dataclass with __slots__ has no __dict__
            return {k: to_json_safe(getattr(obj, k, None), inner) for k in fields if not k.startswith("_")}
    except Exception:
        pass
    return _text(obj)


def _text(obj) -> str:
    """``str(obj)``, or a placeholder naming its type when ``__str__`` itself fails."""
    if isinstance(obj, str):
        return obj
    try:
        return str(obj)
    except Exception:
        return f"<unprintable {type(obj).__name__}>"
