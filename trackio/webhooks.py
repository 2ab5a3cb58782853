"""Webhook delivery of alerts to Slack, Discord or any URL (contract §3.3–3.5).

One daemon sender thread per process, started on first use, drains a FIFO of at most
:data:`MAX_PENDING` deliveries. Each delivery is an HTTP POST (stdlib ``urllib``) with a 10 s timeout,
up to 4 attempts on connection errors, timeouts, 429 and 5xx, waiting 1/2/4 s between attempts or what
a ``Retry-After`` header says (seconds or an HTTP date, capped at 30 s). Failures are reported on the
``trackio`` logger and never raised into training.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque

from ._version import __version__

MAX_PENDING = 256
TIMEOUT = 10.0  # seconds per attempt
BACKOFF = (1.0, 2.0, 4.0)  # seconds before attempts 2, 3, 4
RETRY_AFTER_CAP = 30.0
EMOJI = {"info": "ℹ️", "warn": "⚠️", "error": "🚨"}
DISCORD_COLOURS = {"info": 3447003, "warn": 16776960, "error": 15158332}
ELLIPSIS = "…"


def _cut(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` code points, else its prefix plus ``…`` of exactly ``limit``."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def service(url: str) -> str:
    """``slack``, ``discord`` or ``generic``, chosen by substring of the URL (contract §3.3)."""
    if "hooks.slack.com" in url:
        return "slack"
    if "discord.com/api/webhooks" in url or "discordapp.com/api/webhooks" in url:
        return "discord"
    return "generic"


def payload(url: str, alert: dict) -> dict:
    """The JSON body for ``url``'s service.

    ``alert`` keys: ``level`` (lowercase), ``title``, ``text`` (or None), ``project``, ``run``, ``step``,
    ``timestamp``. Slack texts are cut to 3000 code points; Discord's title to 256, footer to 2048 and
    description to 4096 and to a 6000 total (contract §3.5).
    """
    level, title, text = alert["level"], alert["title"], alert["text"]
    ctx = f"Project: {alert['project']}  •  Run: {alert['run']}  •  Step {alert['step']}"
    kind = service(url)
    if kind == "slack":
        head_open = f"{EMOJI[level]} *[{level.upper()}] "
        room = 3000 - len(head_open) - 1
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"{head_open}{_cut(title, room)}*"}}]
        if text:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}})
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(ctx, 3000)}]})
        return {"blocks": blocks}
    if kind == "discord":
        embed_title = _cut(f"{EMOJI[level]} [{level.upper()}] {title}", 256)
        footer = _cut(ctx, 2048)
        embed = {"title": embed_title, "color": DISCORD_COLOURS[level], "footer": {"text": footer}}
        if text:
            embed["description"] = _cut(text, min(4096, 6000 - len(embed_title) - len(footer)))
        return {"embeds": [embed]}
    return {"level": level, "title": title, "text": text if text else None, "project": alert["project"],
            "run": alert["run"], "step": alert["step"], "timestamp": alert["timestamp"]}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_CAP)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), RETRY_AFTER_CAP)


def post(url: str, body: dict) -> None:
    """Deliver ``body`` to ``url`` with the retry policy above; raise the last error on failure."""
    import urllib.error
    import urllib.request

    data = json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")
    headers = {"Content-Type": "application/json", "User-Agent": f"trackio/{__version__}"}
    opener = _opener()
    for attempt in range(len(BACKOFF) + 1):
        wait = None
        try:
            req = urllib.request.Request(url, data=data, headers=headers, method="POST")
            with opener.open(req, timeout=TIMEOUT) as resp:
                resp.read()
            return
        except urllib.error.HTTPError as e:
            e.close()
            if not (e.code == 429 or 500 <= e.code <= 599) or attempt == len(BACKOFF):
                raise
            wait = _retry_after(e.headers.get("Retry-After") if e.headers else None)
        except (urllib.error.URLError, OSError, ValueError) as e:
            if isinstance(e, ValueError) or attempt == len(BACKOFF):
                raise
        time.sleep(BACKOFF[attempt] if wait is None else wait)


def _opener():
    """A urllib opener that does not follow redirects: urllib would turn the POST into a body-less
    GET, so a 3xx is reported as a failed delivery (only 2xx is success, contract §3.5)."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    return urllib.request.build_opener(NoRedirect)


class Sender:
    """The process's webhook sender: :meth:`submit` enqueues, a daemon thread delivers in order."""

    def __init__(self) -> None:
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._busy = 0  # queued + in flight
        self._submitted = 0
        self._given_up_at = -1  # value of _submitted when a wait last gave up
        self._thread: threading.Thread | None = None

    def submit(self, url: str, body: dict, title: str) -> None:
        """Queue one delivery; dropped with a logged warning when :data:`MAX_PENDING` are pending."""
        with self._cond:
            if self._busy >= MAX_PENDING:
                _log().warning("Webhook queue full; dropping alert '%s'.", title)
                return
            self._queue.append((url, body))
            self._busy += 1
            self._submitted += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="trackio-webhooks", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> int:
        """Deliveries queued or in flight."""
        return self._busy

    def wait(self, timeout: float) -> int:
        """Wait until nothing is pending, at most ``timeout`` seconds; return what is still pending."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._busy

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                url, body = self._queue.popleft()
            try:
                post(url, body)
            except Exception as e:  # never raised into training: reported once per delivery
                _log().warning("Failed to send webhook to %s: %s", url, e)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()


def _log():
    import logging

    return logging.getLogger("trackio")


_sender: Sender | None = None
_sender_lock = threading.Lock()


def sender() -> Sender:
    """The process-wide :class:`Sender` (created on first use)."""
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = Sender()
        return _sender


def wait_pending(timeout: float = 5.0) -> None:
    """Wait up to ``timeout`` s for pending deliveries; log how many were given up on. Deliveries
    already given up on (by ``finish()``) are not waited for again at exit: 5 s in total."""
    s = _sender
    if s is None or s._given_up_at == s._submitted:
        return
    left = s.wait(timeout)
    if left:
        s._given_up_at = s._submitted
        _log().warning("%d webhook delivery(ies) still pending after %gs; giving up.", left, timeout)


def _after_fork() -> None:
    global _sender, _sender_lock
    _sender, _sender_lock = None, threading.Lock()


import os as _os  # noqa: E402

if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork)
