"""Layering and import weight: `import trackio` stays light; store/ imports no UI package; tui/ and
web/ are independent; cli/ imports tui/ and web/ only inside the commands that need them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["textual", "rich", "plotext", "typer", "sqlite_utils", "huggingface_hub", "numpy", "torch", "pandas",
         "PIL", "urllib.request", "logging"]


def test_import_trackio_loads_no_heavy_package():
    code = f"import sys, trackio; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_logging_loads_no_heavy_package(tmp_path):
    code = (f"import sys, trackio; trackio.init(project='p', name='r'); trackio.log({{'a': 1}}); trackio.finish(); "
            f"print([m for m in {HEAVY[:-2]!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"TRACKIO_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_import_linter_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(exe)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.lower() or " 0 broken" in done.stdout.lower()


def test_cli_imports_tui_and_web_only_inside_functions():
    offenders = []
    for path in (ROOT / "trackio" / "cli").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from ..tui import x
                    base = "trackio." + base if node.level == 2 else "trackio.cli." + base
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(("trackio.tui", "trackio.web"))]
    assert offenders == []
