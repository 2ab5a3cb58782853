"""Bounded, retried calls to the Hugging Face Hub for reading a Space (``--space``).

``huggingface_hub``'s API calls have no timeout of their own and raise on the first 429/5xx, so each
read goes through :func:`call`: the call runs with a time limit (:data:`CALL_TIMEOUT`) and is retried
on 408/429/5xx answers and network failures (refused, reset, timed out), waiting what the server asks
(``Retry-After`` in seconds, RFC 9110 §10.2.3) or 1, 2, 4 … s, at most :data:`MAX_TRIES` times and
never past the caller's deadline. (The sync side has its own policy in ``trackio.web.hub``: ``store``
may not import ``web``.)
"""

from __future__ import annotations

import threading
import time

CALL_TIMEOUT = 30.0  # seconds one Hub API call may take (downloads have huggingface_hub's own timeouts)
MAX_TRIES = 5  # attempts per call
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a ``huggingface_hub``/``httpx`` HTTP error, else None."""
    return getattr(getattr(exc, "response", None), "status_code", None)


def retry_after(exc: BaseException) -> float | None:
    """``Retry-After`` in seconds from the error's response, else None."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    value = (headers.get("Retry-After") or "").strip() if headers is not None else ""
    return float(value) if value.isdigit() else None


def retryable(exc: BaseException) -> bool:
    """True for 408/429/5xx answers and network failures, also when wrapped by huggingface_hub (it
    raises e.g. ``LocalEntryNotFoundError`` from a connection error)."""
    for e in (exc, exc.__cause__, exc.__context__):
        if e is None:
            continue
        status = status_of(e)
        if status is not None:
            return status in RETRY_STATUSES
        if type(e).__name__ == "OfflineModeIsEnabled":
            return False
        if isinstance(e, (ConnectionError, TimeoutError)) or (type(e).__module__ or "").startswith("http"):
            return True
    return False


def bounded(fn, timeout: float):
    """``fn()`` in a daemon thread, waiting at most ``timeout`` seconds for it.

    Raises:
        TimeoutError: ``fn`` did not return in time (it is left to finish on its own).
        whatever ``fn`` raised.
    """
    box: dict = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the caller
            box["error"] = e

    t = threading.Thread(target=work, name="trackio-space-read", daemon=True)
    t.start()
    t.join(max(0.1, timeout))
    if t.is_alive():
        raise TimeoutError(f"no answer from the Hub within {max(0.1, timeout):.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def call(fn, deadline: float, limit: bool = True):
    """``fn()`` retried as the module doc says until ``deadline`` (a ``time.monotonic()`` value).

    ``limit``: run it under :func:`bounded` (False for calls that time out by themselves).
    Raises the last failure.
    """
    for attempt in range(MAX_TRIES):
        try:
            if limit:
                return bounded(fn, min(CALL_TIMEOUT, deadline - time.monotonic()))
            return fn()
        except Exception as e:
            wait = retry_after(e)
            wait = float(2 ** attempt) if wait is None else wait
            if attempt + 1 >= MAX_TRIES or not retryable(e) or time.monotonic() + wait + 1 > deadline:
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
