"""A real HTTP server on 127.0.0.1 that records webhook POSTs and misbehaves on request.

Paths choose behaviour: ``/ok/...`` answers 200; ``/fail/...`` answers 500; ``/limit/N/...`` answers
429 with ``Retry-After: N`` to the first request and 200 after; ``/limitdate/...`` the same with an
HTTP-date ``Retry-After`` 2 s ahead; ``/hang/...`` never answers (until the server stops); ``/bad/...``
answers 400. Any path may embed ``hooks.slack.com`` or ``discord.com/api/webhooks`` to select the
payload format.
"""

from __future__ import annotations

import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder:
    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.seen: dict[str, int] = {}

    def bodies(self, path_part: str = "") -> list:
        with self.lock:
            return [r["json"] for r in self.requests if path_part in r["path"]]

    def times(self, path_part: str) -> list[float]:
        with self.lock:
            return [r["t"] for r in self.requests if path_part in r["path"]]


def make_handler(rec: Recorder):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with rec.lock:
                n = rec.seen.get(self.path, 0)
                rec.seen[self.path] = n + 1
                rec.requests.append({"path": self.path, "t": time.monotonic(), "raw": raw,
                                     "json": json.loads(raw.decode("utf-8")), "headers": dict(self.headers)})
            parts = self.path.strip("/").split("/")
            mode = parts[0]
            if mode == "hang":
                rec.stop.wait(60)
                return
            if mode == "fail":
                self.send_response(500)
            elif mode == "bad":
                self.send_response(400)
            elif mode == "limit" and n == 0:
                self.send_response(429)
                self.send_header("Retry-After", parts[1])
            elif mode == "limitdate" and n == 0:
                self.send_response(429)
                self.send_header("Retry-After", formatdate(time.time() + 2, usegmt=True))
            else:
                self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler


def start() -> tuple[ThreadingHTTPServer, Recorder, str]:
    """Start the server on a free port; returns (server, recorder, base URL)."""
    rec = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(rec))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, rec, f"http://127.0.0.1:{server.server_address[1]}"
