"""Fixtures for the web tests: the local Hub server, Hub-using subprocesses, a static file server and
headless Chromium (Debian's ``chromium`` driven by Playwright, no browser download).

Import with ``from web_fixtures import *`` in a test module.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hub_server import HubServer

CHROMIUM = os.environ.get("TRACKIO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "hf_dummy_test_token_0123456789"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def hub(tmp_path):
    """A running local Hub (``hub.url``, ``hub.log``, ``hub.fail(...)``), stopped after the test."""
    server = HubServer(tmp_path / "hub-store", token=TOKEN, page_size=10).start()  # small pages: Link paging is used
    yield server
    server.stop()


@pytest.fixture
def hub_env(hub, trackio_dir, tmp_path):
    """Environment for a subprocess that talks to ``hub`` (set before huggingface_hub is imported)."""
    env = dict(os.environ)
    for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN_PATH", "TRACKIO_SPACE_ID"):
        env.pop(k, None)
    env.update({"HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN, "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HOME": str(tmp_path / "hf-home"), "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRACKIO_DIR": str(trackio_dir), "NO_COLOR": "1",
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])})
    return env


def run_py(code: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``env``; returns the finished process."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Assert a subprocess succeeded, showing its output when it did not."""
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@pytest.fixture
def static_server():
    """``serve(folder) -> url``: serve a folder on 127.0.0.1 (stopped after the test)."""
    servers = []

    def serve(folder: Path) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield serve
    for s in servers:
        s.shutdown()
        s.server_close()


_BROWSER: dict = {}  # one Playwright and one Chromium for the whole session, whichever module asks first


def _close_browser() -> None:
    if _BROWSER:
        try:
            _BROWSER["browser"].close()
        finally:
            _BROWSER["playwright"].stop()
            _BROWSER.clear()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright (``apt-get install -y chromium``; pip ``playwright``)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
                    f"(or set TRACKIO_TEST_CHROMIUM).")
    if not _BROWSER:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        _BROWSER.update(playwright=pw, browser=pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS))
        atexit.register(_close_browser)
    yield _BROWSER["browser"]


@pytest.fixture
def page(browser):
    """A fresh page; records console errors, page errors and dialogs (``page.trackio_events``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    events: list[str] = []
    pg.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
    pg.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on("console", lambda m: events.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.trackio_events = events
    yield pg
    context.close()


def charts(pg) -> dict:
    """``{(stream, metric): {"runs": [...], "points": {run name: count}}}`` as drawn by the page."""
    # through JSON text: Playwright's own transfer drops a key named "__proto__"
    return {(c["stream"], c["metric"]): c for c in json.loads(pg.evaluate("JSON.stringify(window.trackioCharts())"))}


__all__ = ["hub", "hub_env", "static_server", "browser", "page", "run_py", "ok", "charts", "TOKEN", "CHROMIUM",
           "CHROMIUM_ARGS"]
