"""Talking to the Hugging Face Hub: the endpoint, the client, and retries that honour ``Retry-After``.

``huggingface_hub`` is imported only inside these functions. Its commit call is not retried by the
library (``create_commit`` raises on the first 429), so every Hub call made for a sync goes through
:func:`with_retries`: 429, 5xx and 408 answers are retried with exponential backoff (1, 2, 4 … 30 s,
with jitter) or the wait the server asks for (``Retry-After`` in seconds or as an HTTP date, RFC 9110
§10.2.3; or the ``t=`` of a ``RateLimit`` header, as the Hub sends), until a deadline. Failures with
no HTTP answer at all (DNS, connection refused or reset) are retried only :data:`NETWORK_RETRIES`
times (1, 2, 4 s): a machine without network learns it in seconds, not at the deadline. Error
messages never contain the token: they are built from the status and the server's message only.
"""

from __future__ import annotations

import contextvars
import email.utils
import os
import random
import re
import time

RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))
# A threading.Event that, once set, ends the waits between retries at once (finish() uses it to stop
# a background attempt that is retrying against an unreachable Hub). Set per sync worker thread.
CANCEL: contextvars.ContextVar = contextvars.ContextVar("trackio_sync_cancel", default=None)
MAX_BACKOFF = 30.0  # seconds between two attempts when the server names no wait
NETWORK_RETRIES = 3  # retries of a call that got no HTTP answer (waits 1, 2, 4 s), then it fails


class SyncError(RuntimeError):
    """A sync could not be done: bad Space, no token, the Hub refused or was unreachable.

    ``retry_after``: seconds the Hub asked us to wait (429/503), when it said so.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def endpoint() -> str:
    """``HF_ENDPOINT`` (read now, not at import) or ``https://huggingface.co``, without a trailing ``/``."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def space_url(space_id: str) -> str:
    """The Space's page on the Hub: ``<endpoint>/spaces/<space_id>`` (contract §1.11)."""
    return f"{endpoint()}/spaces/{space_id}"


def client(token: str | None = None):
    """An ``HfApi`` bound to :func:`endpoint` (so ``HF_ENDPOINT`` works whatever the import order).

    Raises:
        SyncError: ``huggingface_hub`` is not installed.
    """
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise SyncError("trackio sync needs the huggingface_hub package (pip install huggingface_hub).") from None
    return HfApi(endpoint=endpoint(), token=token)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a ``huggingface_hub`` HTTP error, else None."""
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``Retry-After`` or ``RateLimit: …;t=N``), else None."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    limit = headers.get("RateLimit") or ""
    m = re.search(r"\bt=(\d+)", limit)
    return float(m.group(1)) if m else None


def is_retryable(exc: BaseException) -> bool:
    """True for 408/429/5xx answers and for network failures (refused, reset, timed out)."""
    if _reported_client_error(exc):  # (web2) an HTTP 4xx reported as a ConnectionError: not transient
        return False
    status = status_of(exc)
    if status is not None:
        return status in RETRY_STATUSES
    if type(exc).__name__ == "OfflineModeIsEnabled":  # HF_HUB_OFFLINE=1: waiting will not help
        return False
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    mod = type(exc).__module__ or ""
    return mod.startswith(("httpx", "httpcore"))


def _reported_client_error(exc: BaseException) -> bool:
    """True for an error whose text reports an HTTP 4xx answer other than 408/429: ``hf_xet`` raises
    a plain ``ConnectionError`` ("HTTP status client error (404 Not Found)") for those."""
    m = re.search(r"HTTP status client error \((\d{3})", str(exc))
    return m is not None and int(m.group(1)) not in (408, 429)


def describe(exc: BaseException) -> str:
    """A one-line reason for a failed Hub call, without headers or tokens."""
    status = status_of(exc)
    if status is not None:
        response = getattr(exc, "response", None)
        message = ""
        try:
            message = response.headers.get("X-Error-Message") or ""
            if not message:
                body = response.json()
                message = body.get("error") if isinstance(body, dict) else ""
        except Exception:
            message = ""
        text = f"HTTP {status}"
        return f"{text}: {message}" if message else text
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r"hf_[A-Za-z0-9]{8,}", "hf_***", text)


def unreachable(exc: BaseException) -> str:
    """The message for a Hub call that got no HTTP answer: ``could not reach <host[:port]>: <reason>``."""
    from urllib.parse import urlsplit

    host = urlsplit(endpoint()).netloc.rpartition("@")[2] or endpoint()  # host[:port], never user:password
    return f"could not reach {host}: {describe(exc)}"


def with_retries(fn, deadline: float, sleep=time.sleep):
    """Call ``fn()``; retry retryable failures until ``time.monotonic()`` would pass ``deadline``.

    HTTP answers worth retrying (408, 429, 5xx) wait what the server's ``Retry-After`` asks, else
    1, 2, 4 … :data:`MAX_BACKOFF` s with ±20 % jitter, until the deadline. A failure with no HTTP
    answer (DNS, refused, reset, timed out) is retried at most :data:`NETWORK_RETRIES` times, after
    1, 2, 4 s (±20 %). Returns what ``fn`` returns.

    Raises:
        SyncError: the last failure, described (``retry_after`` set when the server asked for a wait),
            once out of time or tries, or for a failure that is not worth retrying.
    """
    attempt = network = 0
    while True:
        try:
            return fn()
        except SyncError:
            raise
        except Exception as e:
            asked, status = retry_after(e), status_of(e)
            if not is_retryable(e):
                raise SyncError(describe(e), asked) from None
            message = describe(e) if status is not None else unreachable(e)
            if status is None:  # no answer from the server at all
                if network >= NETWORK_RETRIES:
                    raise SyncError(message) from None
                wait = 2.0 ** network * random.uniform(0.8, 1.2)
                network += 1
            else:
                wait = asked if asked is not None else min(MAX_BACKOFF, 2.0 ** attempt) * random.uniform(0.8, 1.2)
                attempt += 1
            if time.monotonic() + wait > deadline:
                raise SyncError(message, asked) from None
            cancel = CANCEL.get()
            if cancel is None:
                sleep(wait)
            elif cancel.wait(wait):
                raise SyncError(message, asked) from None
