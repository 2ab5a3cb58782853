"""Media values accepted by ``log``: Table, Image, Histogram, Trace (contract §1.10).

Each is stored as a ``{"_type": ...}`` dict, built at log time by ``_to_dict(ctx)`` where ``ctx`` is a
:class:`MediaContext` (images are written to disk then). numpy, pandas and Pillow are imported only
when a media object needs them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from .store.paths import run_dir_name
from .values import Unsupported, convert_value, to_json_safe, type_name


class MediaError(Unsupported):
    """A media object that cannot be stored (no Pillow, not an image, ...). Unlike a plain unsupported
    table cell, which is stored as ``str(cell)``, it skips the whole logged key with its message."""


class MediaContext(NamedTuple):
    """Where a media file of one logged row goes: ``<media_root>/<project>/<run>/<step>/``."""

    media_root: Path
    project: str  # canonical project name
    run_name: str
    step: int


class Image:
    """An image: a PIL image, a numpy array or torch tensor (H×W, H×W×3, H×W×4, or channels-first
    C×H×W; floats in [0, 1] scaled to uint8, integers clipped to [0, 255]) or a path (``str``/``Path``).

    Stored as ``{"_type": "trackio.image", "file_path": "<canon(P)>/<run>/<step>/<uuid4>.<ext>",
    "caption": caption}``; at log time the file is written under ``<TRACKIO_DIR>/media/``: arrays and PIL
    images as PNG, paths copied with their extension. An image that cannot be saved (no Pillow, an
    array of another shape) skips its logged key with a warning.

    Raises:
        ValueError: ``File not found: <path>`` when a path does not exist.
    """

    TYPE = "trackio.image"

    def __init__(self, value, caption: str | None = None):
        if isinstance(value, (str, os.PathLike)):
            if not Path(value).exists():
                raise ValueError(f"File not found: {value}")
        self._value = value
        self.caption = caption

    def _to_dict(self, ctx: MediaContext | None) -> dict:
        if ctx is None:
            raise MediaError("images can only be logged inside a run")
        rel = Path(ctx.project) / run_dir_name(ctx.run_name) / str(ctx.step)
        folder = ctx.media_root / rel
        value = self._value
        if isinstance(value, (str, os.PathLike)):
            ext = Path(value).suffix or ".bin"
            name = f"{uuid.uuid4()}{ext}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(value, folder / name)
        else:
            try:
                from PIL import Image as PILImage
            except ImportError:
                raise MediaError("saving images needs Pillow") from None
            if not isinstance(value, PILImage.Image):
                value = PILImage.fromarray(_to_uint8(value))
            if value.mode not in _PNG_MODES:
                value = value.convert("RGBA" if "A" in value.mode else "RGB")
            name = f"{uuid.uuid4()}.png"
            folder.mkdir(parents=True, exist_ok=True)
            value.save(folder / name, format="PNG")
        return {"_type": self.TYPE, "file_path": (rel / name).as_posix(), "caption": self.caption}


_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})


def _to_uint8(value):
    """An image array as H×W or H×W×C (C in 1–4) uint8: floats in [0, 1] are scaled by 255, integers
    clipped to [0, 255]; a channels-first C×H×W array (torch's layout) is transposed; H×W×1 squeezed.

    Raises:
        MediaError: not array-like, or a shape that is no image.
    """
    import numpy as np

    if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
        value = value.detach().cpu().numpy()
    try:
        a = np.asarray(value)
    except Exception:
        raise MediaError(f"cannot make an image from {type_name(value)}") from None
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 2, 3, 4):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.dtype.kind not in "fiub" or not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4))):
        raise MediaError(f"cannot make an image from an array of shape {a.shape} and dtype {a.dtype} "
                         "(expected H×W, H×W×3 or H×W×4)")
    if a.dtype.kind == "f":
        a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0)
        a = (np.clip(a, 0.0, 1.0) * 255).round()
    elif a.dtype.kind in "iu":
        a = np.clip(a, 0, 255)
    return a.astype(np.uint8)


class Table:
    """A table of rows, stored as ``{"_type": "trackio.table", "_value": [row dicts]}``.

    ``dataframe`` (anything with ``to_dict(orient="records")``, e.g. pandas; TRL passes one) wins; else
    ``data`` (or wandb's alias ``rows``) as a list of dicts used as is, or a list of lists zipped with
    ``columns``: missing cells are ``None``, cells beyond the named columns (all of them without
    ``columns``) are keyed by their index ``"0"``, ``"1"``, …. ``optional``, ``allow_mixed_types`` and
    ``log_mode`` are accepted for compatibility and ignored. Cells follow ``log``'s value rules with
    unsupported cells stored as ``str(cell)``; ``Image`` cells (or lists of them) are saved at log time
    and replaced by their dicts.

    Raises:
        TypeError: ``dataframe`` has no usable ``to_dict(orient='records')``; a row of ``data`` is
            neither a mapping nor a sequence of cells.
    """

    TYPE = "trackio.table"

    def __init__(self, columns=None, data=None, dataframe=None, rows=None, optional=True,
                 allow_mixed_types=False, log_mode="IMMUTABLE"):
        self.columns = [str(c) for c in columns] if columns is not None else None
        if dataframe is not None:
            try:
                records = [dict(r) for r in dataframe.to_dict(orient="records")]
            except Exception:
                raise TypeError("The `dataframe` argument must support `to_dict(orient='records')`.") from None
        else:
            records = [self._record(row) for row in (data if data is not None else rows) or []]
        self.data = records

    def _record(self, row) -> dict:
        if isinstance(row, Mapping):
            return dict(row)
        if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
            raise TypeError(f"Table rows must be dicts or lists of cells, got {type_name(row)}")
        cells = list(row)
        keys = self.columns or []
        record = {k: (cells[i] if i < len(cells) else None) for i, k in enumerate(keys)}
        for i in range(len(keys), len(cells)):
            record.setdefault(str(i), cells[i])
        return record

    def _to_dict(self, ctx: MediaContext | None) -> dict:
        rows = [{str(k): _cell(v, ctx) for k, v in record.items()} for record in self.data]
        return {"_type": self.TYPE, "_value": rows}


def _cell(value, ctx):
    """A table cell or trace value by ``log``'s rules; an unsupported value becomes ``str(value)``.
    A :class:`MediaError` (an image that cannot be saved) propagates and skips the logged key."""
    try:
        return convert_value(value, ctx)
    except MediaError:
        raise
    except Unsupported:
        return str(value)


class Histogram:
    """A histogram from samples (``sequence``: list, numpy array or torch tensor) or
    ``np_histogram=(counts, edges)`` as returned by ``numpy.histogram``; needs numpy.

    Stored as ``{"_type": "trackio.histogram", "bins": [edges], "values": [counts]}``. ``num_bins`` is
    capped at 512; non-finite samples are dropped.

    Raises:
        ValueError: neither or both of ``sequence`` and ``np_histogram`` given.
    """

    TYPE = "trackio.histogram"

    def __init__(self, sequence=None, np_histogram=None, num_bins: int = 64):
        import numpy as np

        if sequence is None and np_histogram is None:
            raise ValueError("Must provide either sequence or np_histogram")
        if sequence is not None and np_histogram is not None:
            raise ValueError("Cannot provide both sequence and np_histogram")
        if np_histogram is not None:
            counts, edges = np_histogram
        else:
            if hasattr(sequence, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
                sequence = sequence.detach().cpu().numpy()
            samples = np.asarray(sequence, dtype=float).ravel()
            samples = samples[np.isfinite(samples)]
            counts, edges = np.histogram(samples, bins=max(1, min(int(num_bins), 512)))
        self.values = [to_json_safe(v) for v in np.asarray(counts).tolist()]
        self.bins = [to_json_safe(v) for v in np.asarray(edges).tolist()]

    def _to_dict(self, ctx) -> dict:
        return {"_type": self.TYPE, "bins": self.bins, "values": self.values}


class Trace:
    """A conversation trace: ``messages`` (list of dicts) and optional ``metadata``; stored as
    ``{"_type": "trackio.trace", "messages": [...], "metadata": {...}}`` with values converted by the
    ``log`` rules."""

    TYPE = "trackio.trace"

    def __init__(self, messages: list, metadata: dict | None = None):
        self.messages = list(messages)
        self.metadata = dict(metadata or {})

    def _to_dict(self, ctx) -> dict:
        return {"_type": self.TYPE, "messages": [_cell(m, ctx) for m in self.messages],
                "metadata": {str(k): _cell(v, ctx) for k, v in self.metadata.items()}}
