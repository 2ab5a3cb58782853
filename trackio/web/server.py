"""``trackio show --web``: serve a project's export on 127.0.0.1 and keep it live.

The project is exported into a temporary folder, served by the standard library's
``ThreadingHTTPServer``, and re-exported (incrementally) whenever the project's fingerprint or a
run's status changes (a writer that was killed adds no rows but turns ``crashed``), and at most every
:data:`HEARTBEAT_EVERY` seconds when only heartbeats moved (the page shows a quiet run as "stalled"
after ten minutes without one); checked every :data:`CHECK_EVERY` seconds. The page polls its data
files and picks the changes up. Data files are served with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import signal
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..console import BOLD_ORANGE, paint, say
from .export import export_project

CHECK_EVERY = 1.0  # seconds between checks for new rows
HEARTBEAT_EVERY = 60.0  # seconds between re-exports made only to carry newer heartbeats


def _state(project: str, directory: Path | None):
    """``(fingerprint, {run id: status}, {run id: heartbeat})`` of the project now, or None."""
    from ..store.reader import open_project
    from ..store.runs import project_runs
    from ..store.syncstate import fingerprint

    try:
        conn = open_project(project, directory)
    except Exception:
        return None
    try:
        runs = project_runs(conn)
        return fingerprint(conn), {r.id: r.status for r in runs}, {r.id: r.heartbeat_at for r in runs}
    except Exception:
        return None
    finally:
        conn.close()


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the terminal stays quiet
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a browser that went away mid-response
        pass


def _on_sigterm(stop: threading.Event):
    """Make SIGTERM stop the server like Ctrl+C (so the export folder is removed); returns the previous
    handler, or None when this is not the main thread (signals can only be handled there)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())


def serve(project: str, port: int = 7860, directory: Path | None = None, host: str = "127.0.0.1",
          ready=None, stop: threading.Event | None = None) -> None:
    """Export ``project`` and serve it at ``http://<host>:<port>/`` until Ctrl+C, SIGTERM (both end it
    normally: the call returns) or ``stop`` is set; the temporary export folder is removed in every case.

    ``port=0`` picks a free port. Prints ``* Serving project 'P' at: <URL> (Ctrl+C to stop)``.
    ``ready``: optional callable receiving the URL once serving (for embedding and tests).

    Raises:
        trackio.store.reader.ProjectNotFound / ProjectUnreadable: the project file.
        OSError: the port is taken or the folder cannot be written.
    """
    out = Path(tempfile.mkdtemp(prefix="trackio-web-"))
    stop = stop or threading.Event()
    previous = _on_sigterm(stop)
    try:
        last = _state(project, directory)
        export_project(project, out, directory)
        exported_at = time.monotonic()
        httpd = _Server((host, port), functools.partial(_Handler, directory=str(out)))
        url = f"http://{host}:{httpd.server_address[1]}/"

        def refresh():
            nonlocal last, exported_at
            while not stop.wait(CHECK_EVERY):
                now = _state(project, directory)
                if now is None or now == last:
                    continue
                beats_only = last is not None and now[:2] == last[:2]
                if beats_only and time.monotonic() - exported_at < HEARTBEAT_EVERY:
                    continue
                try:
                    export_project(project, out, directory)
                    last, exported_at = now, time.monotonic()
                except Exception:
                    pass  # the file is busy or mid-migration: try again on the next tick

        threading.Thread(target=refresh, name="trackio-web-refresh", daemon=True).start()
        threading.Thread(target=lambda: (stop.wait(), httpd.shutdown()), daemon=True).start()
        say(f"* Serving project '{project}' at: {paint(url, BOLD_ORANGE)} (Ctrl+C to stop)")
        if ready is not None:
            ready(url)
        try:
            httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            httpd.server_close()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(out, ignore_errors=True)
