"""Media values accepted by ``log``: Table, Image, Histogram, Trace (contract §1.10).

Each is stored as a ``{"_type": ...}`` dict, built at log time by ``_to_dict(ctx)`` where ``ctx`` is a
:class:`MediaContext` (images are written to disk then). numpy, pandas and Pillow are imported only
when a media object needs them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import NamedTuple

from .store.paths import run_dir_name
from .values import Unsupported, convert_value, to_json_safe


class MediaContext(NamedTuple):
    """Where a media file of one logged row goes: ``<media_root>/<project>/<run>/<step>/``."""

    media_root: Path
    project: str  # canonical project name
    run_name: str
    step: int


class Image:
    """An image: a PIL image, a numpy array (H×W, H×W×3, H×W×4; floats in [0, 1] scaled to uint8) or a
    path. Stored as ``{"_type": "trackio.image", "file_path": "<project>/<run>/<step>/<uuid>.<ext>",
    "caption": caption}``; the file lands under ``<TRACKIO_DIR>/media/`` at log time.

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
            raise Unsupported("images can only be logged inside a run")
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
                raise Unsupported("saving images needs Pillow") from None
            if not isinstance(value, PILImage.Image):
                value = PILImage.fromarray(_to_uint8(value))
            name = f"{uuid.uuid4()}.png"
            folder.mkdir(parents=True, exist_ok=True)
            value.save(folder / name, format="PNG")
        return {"_type": self.TYPE, "file_path": (rel / name).as_posix(), "caption": self.caption}


def _to_uint8(array):
    import numpy as np

    a = np.asarray(array)
    if a.dtype.kind == "f":
        a = (np.clip(a, 0.0, 1.0) * 255).round()
    return a.astype(np.uint8)


class Table:
    """A table of rows, stored as ``{"_type": "trackio.table", "_value": [row dicts]}``.

    ``dataframe`` (anything with ``to_dict(orient="records")``, e.g. pandas) wins; else ``data`` as a
    list of dicts, or a list of lists zipped with ``columns`` (missing cells ``None``; keys ``"0"``,
    ``"1"``, … without columns). Cells follow ``log``'s value rules, unsupported cells become ``str``;
    ``Image`` cells (or lists of them) are saved and replaced by their dicts.

    Raises:
        TypeError: ``dataframe`` has no usable ``to_dict(orient='records')``.
    """

    TYPE = "trackio.table"

    def __init__(self, columns=None, data=None, dataframe=None, rows=None, optional=True,
                 allow_mixed_types=False, log_mode="IMMUTABLE"):
        self.columns = list(columns) if columns is not None else None
        if dataframe is not None:
            try:
                records = dataframe.to_dict(orient="records")
            except Exception:
                raise TypeError("The `dataframe` argument must support `to_dict(orient='records')`.") from None
        else:
            records = []
            for row in (data if data is not None else rows) or []:
                if isinstance(row, dict):
                    records.append(dict(row))
                else:
                    cells = list(row)
                    keys = self.columns or [str(i) for i in range(len(cells))]
                    records.append({str(k): (cells[i] if i < len(cells) else None) for i, k in enumerate(keys)})
        self.data = records

    def _to_dict(self, ctx: MediaContext | None) -> dict:
        rows = []
        for record in self.data:
            rows.append({str(k): _cell(v, ctx) for k, v in record.items()})
        return {"_type": self.TYPE, "_value": rows}


def _cell(value, ctx):
    try:
        return convert_value(value, ctx)
    except Exception:
        return str(value)


class Histogram:
    """A histogram from samples (``sequence``) or ``np_histogram=(counts, edges)``; needs numpy.

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
