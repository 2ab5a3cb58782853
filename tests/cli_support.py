"""Helpers for the CLI tests: run the installed ``trackio`` console script, build project files.

Every CLI test goes through the real console script in a subprocess, against data written by the
real logging API (in a subprocess too) or, for upstream compatibility, a file built here with
upstream trackio's schema and row shapes (JSON as BLOB, nested objects, no ``runs`` table).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
TRACKIO = str(BIN / "trackio") if (BIN / "trackio").exists() else "trackio"


@dataclass
class Result:
    """A finished CLI process: exit code, decoded stdout/stderr, raw stdout bytes."""

    rc: int
    out: str
    err: str
    raw: bytes

    def json(self):
        """stdout as strict JSON (bare NaN/Infinity rejected)."""
        return strict_json(self.out)


def cli(*args, data_dir: Path | None = None, env: dict | None = None, timeout: float = 120) -> Result:
    """Run ``trackio *args`` with ``TRACKIO_DIR=data_dir``; colour off unless ``env`` says otherwise."""
    full = dict(os.environ)
    full.pop("NO_COLOR", None)
    full["COLUMNS"] = "200"
    if data_dir is not None:
        full["TRACKIO_DIR"] = str(data_dir)
    full.update(env or {})
    p = subprocess.run([TRACKIO, *map(str, args)], capture_output=True, env=full, timeout=timeout)
    return Result(p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8"), p.stdout)


def _reject(token):
    raise ValueError(f"non-strict JSON token {token}")


def strict_json(text: str):
    """Parse ``text`` as RFC 8259 JSON (``NaN``/``Infinity`` tokens are errors)."""
    return json.loads(text, parse_constant=_reject)


def expected_json(doc) -> str:
    """The contract's rendering of a JSON document (§4.1)."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_with_api(data_dir: Path, code: str, timeout: float = 300) -> None:
    """Run ``code`` (which imports trackio and logs) in a fresh interpreter with ``TRACKIO_DIR``."""
    env = {**os.environ, "TRACKIO_DIR": str(data_dir)}
    env.pop("TRACKIO_WEBHOOK_URL", None)
    env.pop("TRACKIO_SPACE_ID", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    assert p.returncode == 0, p.stderr


def rows(path: Path, sql: str, params=()) -> list[tuple]:
    """Query a project file with plain sqlite3 (read-only), not through trackio."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# Upstream trackio 0.43's tables (no ``runs`` table): the file an upstream user already has.
UPSTREAM_DDL = """
CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,
  run_name TEXT NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL, log_id TEXT, space_id TEXT);
CREATE TABLE configs (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, run_name TEXT NOT NULL,
  config TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE(run_id));
CREATE TABLE system_metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,
  run_name TEXT NOT NULL, metrics TEXT NOT NULL, log_id TEXT, space_id TEXT);
CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, timestamp TEXT NOT NULL,
  run_name TEXT NOT NULL, title TEXT NOT NULL, text TEXT, level TEXT NOT NULL DEFAULT 'warn', step INTEGER,
  alert_id TEXT);
CREATE TABLE project_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX idx_metrics_run_step ON metrics(run_id, step);
CREATE INDEX idx_metrics_run_timestamp ON metrics(run_id, timestamp);
CREATE INDEX idx_system_metrics_run_timestamp ON system_metrics(run_id, timestamp);
CREATE INDEX idx_alerts_run ON alerts(run_id);
PRAGMA user_version = 2;
"""

UP_RUN = "a1" * 16

# (timestamp as upstream stored it, step, metrics dict): upstream isoformat drops a zero fraction;
# the last rows use other ISO forms a reader must still compare as instants.
UPSTREAM_ROWS = [
    ("2026-01-01T00:00:00+00:00", 0, {"train": {"loss": 1.0, "acc": 0.1}, "lr": 0.01}),
    ("2026-01-01T00:00:01.500000+00:00", 1, {"train": {"loss": 0.9, "acc": 0.2}, "lr": 0.01,
                                             "media": {"_type": "trackio.image", "file_path": "x.png"}}),
    ("2026-01-01T02:00:03+02:00", 2, {"train": {"loss": 0.8}, "empty": {}, "lr": 0.009}),  # = 00:00:03Z
    ("2026-01-01 00:00:04", 3, {"train/loss": 0.7, "lr": 0.008}),  # flat, space separator, no offset
    ("2025-12-31T19:00:05-05:00", 4, {"train": {"loss": 0.6}, "lr": 0.007}),  # = 00:00:05Z
]


def build_upstream(path: Path, nan_text_row: bool = True) -> None:
    """Write ``path`` the way upstream trackio does: orjson-style BLOB JSON, nested dicts, no ``runs``.

    With ``nan_text_row``, one more row is TEXT with a bare ``NaN`` token (older upstream versions
    wrote ``json.dumps`` output).
    """
    conn = sqlite3.connect(path)
    conn.executescript(UPSTREAM_DDL)
    blob = lambda obj: json.dumps(obj, separators=(",", ":")).encode()  # noqa: E731
    for ts, step, m in UPSTREAM_ROWS:
        conn.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                     (UP_RUN, ts, "up-run", step, blob(m)))
    if nan_text_row:
        conn.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
                     (UP_RUN, "2026-01-01T00:00:06+00:00", "up-run", 5, '{"train": {"loss": NaN}, "lr": Infinity}'))
    conn.execute("INSERT INTO configs (run_id, run_name, config, created_at) VALUES (?,?,?,?)",
                 (UP_RUN, "up-run", blob({"lr": 0.01, "opt": {"name": "adam"}, "_Username": None,
                                          "_Created": "2026-01-01T00:00:00+00:00"}), "2026-01-01T00:00:00+00:00"))
    conn.execute("INSERT INTO system_metrics (run_id, timestamp, run_name, metrics) VALUES (?,?,?,?)",
                 (UP_RUN, "2026-01-01T00:00:02+00:00", "up-run", blob({"gpu": {"0": {"util": 55}}})))
    conn.execute("INSERT INTO alerts (run_id, timestamp, run_name, title, text, level, step) VALUES (?,?,?,?,?,?,?)",
                 (UP_RUN, "2026-01-01T00:00:03+00:00", "up-run", "old alert", None, "warn", 2))
    conn.commit()
    conn.close()


def run_in_pty(args, env) -> str:
    """Run the console script with stdout on a pseudo-terminal; everything it wrote there, decoded."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([TRACKIO, *args], stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO once the child has closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    p.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()

