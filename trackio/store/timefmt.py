"""The one timestamp format we write, and parsing of every ISO 8601 form we read.

Written: UTC ISO 8601 with exactly 6 fractional digits and ``+00:00``
(``datetime.isoformat(timespec="microseconds")``), e.g. ``2026-11-30T06:19:15.334866+00:00``.
Read: anything :func:`datetime.datetime.fromisoformat` accepts, plus ``Z``, a space separator, ``±HHMM``
/ ``±HH`` offsets and fractions longer than 6 digits (truncated). A value without an offset is UTC.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

_UTC = timezone.utc
_cache = (-1, "")  # (second, "YYYY-MM-DDTHH:MM:SS"): one tuple, so threads never see a torn pair


def format_ts(t: float) -> str:
    """Format a POSIX time in seconds as our timestamp string (UTC, microseconds, ``+00:00``)."""
    return format_us(round(t * 1_000_000))


def format_us(us_total: int) -> str:
    """Format integer microseconds since the epoch as our timestamp string."""
    global _cache
    sec, us = divmod(us_total, 1_000_000)
    cached_sec, prefix = _cache
    if sec != cached_sec:
        # Built once per second; the per-row cost is then one string join.
        prefix = datetime.fromtimestamp(sec, _UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _cache = (sec, prefix)
    return f"{prefix}.{us:06d}+00:00"


def now_us() -> int:
    """The current time in integer microseconds since the epoch (what queued rows carry)."""
    return time.time_ns() // 1000


def now_ts() -> str:
    """The current time as our timestamp string."""
    return format_us(time.time_ns() // 1000)


_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


class OutOfRange(ValueError):
    """A well-formed timestamp outside the instants ``datetime`` holds (years 1-9999 in UTC)."""


def parse_ts(text: str) -> datetime:
    """Parse an ISO 8601 timestamp into an aware UTC datetime.

    Accepts ``YYYY-MM-DD`` (midnight) and ``YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]`` with an optional
    ``Z``/``z``/``±HH:MM``/``±HHMM``/``±HH`` offset; no offset means UTC.

    Raises:
        ValueError: ``text`` is not such a timestamp (or names an impossible date or time);
            :class:`OutOfRange` (a ValueError) when it is one that ``datetime`` cannot hold in UTC.
    """
    m = _ISO.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{text!r} is not an ISO 8601 timestamp")
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    normal = f"{y}-{mo}-{d}T{hh or '00'}:{mi or '00'}:{ss or '00'}"
    if frac:
        normal += "." + (frac[:6]).ljust(6, "0")
    if off and off not in ("Z", "z"):
        sign, digits = off[0], off[1:].replace(":", "")
        normal += f"{sign}{digits[:2]}:{(digits[2:] or '00')}"
    else:
        normal += "+00:00"
    try:
        return datetime.fromisoformat(normal).astimezone(_UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 timestamp") from None
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is after the last instant datetime holds
        raise OutOfRange(f"{text!r} is outside the range of dates that can be compared (years 1-9999 in UTC)") from None


def ts_key(text: str) -> float:
    """Seconds since the epoch for a stored timestamp; ``-inf`` when it cannot be parsed."""
    try:
        return parse_ts(text).timestamp()
    except ValueError:
        return float("-inf")
