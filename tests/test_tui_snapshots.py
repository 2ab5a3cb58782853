"""SVG snapshots of the main views (pytest-textual-snapshot) on the deterministic demo project of
``screenshots/make.py``: frozen clock, seeded run ids, animations off. Update with
``pytest tests/test_tui_snapshots.py --snapshot-update`` after looking at the report."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
from pathlib import Path

import pytest

MAKE = Path(__file__).resolve().parent.parent / "screenshots" / "make.py"


def _make():
    spec = importlib.util.spec_from_file_location("tui_screens_make", MAKE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make = _make()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    saved = os.environ.get("TRACKIO_DIR")
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    d = tmp_path_factory.mktemp("tui-demo") / "data"
    live = make.write_demo(d)
    yield d
    with contextlib.redirect_stdout(io.StringIO()):
        live.finish()
    if saved is None:
        os.environ.pop("TRACKIO_DIR", None)
    else:
        os.environ["TRACKIO_DIR"] = saved


@pytest.mark.parametrize("name,size,keys", make.VIEWS, ids=[v[0][:-4] for v in make.VIEWS])
def test_view_snapshot(snap_compare, demo_dir, name, size, keys):
    async def run_before(pilot):
        await make.wait_loaded(pilot)
        for k in keys:
            await pilot.press(k)
        await pilot.pause(0.3)

    assert snap_compare(make.demo_app(demo_dir), terminal_size=size, run_before=run_before)
