"""Alert levels and the terminal line of an alert (contract §1.8, §3.1)."""

from __future__ import annotations

from enum import Enum

from .console import RESET, colour_on

_COLOURS = {"info": "\x1b[94m", "warn": "\x1b[93m", "error": "\x1b[91m"}
_RANK = {"info": 0, "warn": 1, "error": 2}


class AlertLevel(str, Enum):
    """Severity of an alert: ``INFO`` < ``WARN`` < ``ERROR``; each equals its lowercase string."""

    INFO = "info"
    WARN = "warn"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


def parse_level(value) -> AlertLevel | None:
    """An :class:`AlertLevel` from a level or a string (case-insensitive, trimmed); ``None`` if invalid."""
    if isinstance(value, AlertLevel):
        return value
    if isinstance(value, str):
        try:
            return AlertLevel(value.strip().lower())
        except ValueError:
            return None
    return None


def invalid_level_text(value) -> str:
    """The contract's message for an unknown level (without the trailing action)."""
    return f"Invalid alert level '{value}'. Expected one of: info, warn, error."


def rank(level: AlertLevel) -> int:
    """Order of levels: info 0 < warn 1 < error 2."""
    return _RANK[level.value]


def alert_line(title: str, text: str | None, level: AlertLevel, step: int) -> str:
    """``[TRACKIO LEVEL] title: text (step N)``; only the tag coloured, under the colour rule."""
    tag = f"[TRACKIO {level.value.upper()}]"
    if colour_on():
        tag = f"{_COLOURS[level.value]}{tag}{RESET}"
    body = f"{title}: {text}" if text else f"{title}"
    return f"{tag} {body} (step {step})"
