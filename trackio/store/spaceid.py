"""Hugging Face Space ids: parsing what users type, checking names, generating one for a project.

The Hub's repository name rules (huggingface_hub ``validate_repo_id`` and the Hub's own checks): a
name is 1–96 characters from ``A-Z a-z 0-9 - _ .``, does not start or end with ``-`` or ``.``, and
holds neither ``--`` nor ``..``. The Hub refuses other names, so a name is checked here before any
request is made and before it is stored in a project file.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from urllib.parse import urlsplit

MAX_NAME = 96  # characters in a repository (or user) name
_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$")
_RULES = "letters, digits, '-', '_' and '.', not starting or ending with '-' or '.', at most 96 characters"


def valid_name(name: str) -> bool:
    """True when ``name`` is a valid Hub user or repository name (see module doc)."""
    return (isinstance(name, str) and 0 < len(name) <= MAX_NAME and bool(_NAME.match(name))
            and "--" not in name and ".." not in name)


def parse_space_id(value: str, bare: bool = False) -> str:
    """``USER/NAME`` from ``USER/NAME``, ``spaces/USER/NAME`` or a ``…/spaces/USER/NAME[/…]`` URL
    (with ``bare``: a plain ``NAME`` too, returned as is, for the token owner's namespace).

    Raises:
        ValueError: anything else, or a name the Hub would refuse (``*.hf.space`` host names cannot be
            turned back into an id: their dashes are ambiguous).
    """
    text = (value or "").strip() if isinstance(value, str) else ""
    if text.startswith(("http://", "https://")):
        parts = [p for p in urlsplit(text).path.split("/") if p]
        if len(parts) >= 3 and parts[0] == "spaces":
            text = f"{parts[1]}/{parts[2]}"
        else:
            raise ValueError(f"Cannot tell the Space id from '{value}': pass it as USER/NAME.")
    elif text.startswith("spaces/"):
        text = text[len("spaces/"):]
    text = text.strip("/")
    parts = text.split("/")
    if len(parts) == 2 and all(valid_name(p) for p in parts):
        return text
    if bare and len(parts) == 1 and valid_name(text):
        return text
    expected = "USER/NAME or NAME" if bare else "USER/NAME"
    raise ValueError(f"Invalid Space id '{value}': expected {expected} ({_RULES}).")


def generated_name(project: str) -> str:
    """A new Space name for ``project``: ``<slug>-<6 lowercase hex>`` where the slug is the project's
    canonical name made ASCII (accents dropped, other characters turned into ``-``), or ``trackio`` when
    nothing usable is left; always a :func:`valid_name`."""
    from .paths import canon

    text = unicodedata.normalize("NFKD", canon(project)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", text)
    slug = re.sub(r"-{2,}", "-", slug).strip("-_")[: MAX_NAME - 7].strip("-_")
    name = f"{slug or 'trackio'}-{secrets.token_hex(3)}"
    return name if valid_name(name) else f"trackio-{secrets.token_hex(3)}"
