"""SVG snapshots of the main views (pytest-textual-snapshot) on the ``trackio demo`` project of
``screenshots/make.py``: real demo training with a fake clock, seeded ids and pinned float32
kernels, the app's clock frozen, animations off. Update with
``pytest tests/test_tui_snapshots.py --snapshot-update`` after looking at the report."""

from __future__ import annotations

import importlib.util
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
    saved = os.environ.get("TEXTUAL_ANIMATIONS")
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    d = tmp_path_factory.mktemp("tui-demo") / "data"
    make.write_demo(d)
    yield d
    if saved is None:
        os.environ.pop("TEXTUAL_ANIMATIONS", None)
    else:
        os.environ["TEXTUAL_ANIMATIONS"] = saved


@pytest.mark.parametrize("name,size,keys", make.VIEWS, ids=[v[0][:-4] for v in make.VIEWS])
def test_view_snapshot(snap_compare, demo_dir, name, size, keys):
    async def run_before(pilot):
        await make.wait_loaded(pilot)
        for k in keys:
            await pilot.press(k)
        await pilot.pause(0.3)

    assert snap_compare(make.demo_app(demo_dir), terminal_size=size, run_before=run_before)
