"""Shared fixtures: every test gets its own data directory through ``TRACKIO_DIR``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def trackio_dir(tmp_path, monkeypatch) -> Path:
    """A fresh, empty data directory set as ``TRACKIO_DIR`` for this test (and its subprocesses)."""
    d = tmp_path / "trackio-data"
    monkeypatch.setenv("TRACKIO_DIR", str(d))
    monkeypatch.delenv("TRACKIO_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("TRACKIO_WEBHOOK_MIN_LEVEL", raising=False)
    monkeypatch.delenv("TRACKIO_SPACE_ID", raising=False)
    yield d
    import trackio
    from trackio import _state

    if _state.active is not None:
        _state.active.finish()
    trackio.config = trackio.Config()


def db_rows(directory: Path, project: str, sql: str, params=()) -> list[tuple]:
    """Run ``sql`` against the project's file with plain sqlite3 (not through trackio)."""
    conn = sqlite3.connect(str(directory / f"{project}.db"))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def run_python(code: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with this test environment; returns the finished process."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                          timeout=timeout)
