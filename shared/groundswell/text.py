"""Text hygiene for post text written by strangers: HTML stripped, controls removed, length bounded."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_TEXT_CHARS = 2000
MAX_RAW_CHARS = 200_000

_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/h\d)\s*/?\s*>", re.IGNORECASE)
_SCRIPT_STYLE = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")
_BROKEN_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*[^<>\s]*")  # a tag never closed, e.g. '</span}'

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\n\s*\n+")


class TextRepair:
    """What ``clean_text`` had to do to a text, for the structured warning."""

    __slots__ = ("html_stripped", "truncated")

    def __init__(self) -> None:
        self.html_stripped = False
        self.truncated = False


def clean_text(raw: str, *, max_chars: int = MAX_TEXT_CHARS, repair: TextRepair | None = None) -> str:
    """Plain text from a post body that may hold HTML, entities, control or bidi characters.

    The result has no tags, no invisible or direction-changing characters, collapsed white space and at
    most ``max_chars`` characters (cut at a word boundary, ending in an ellipsis).
    """
    if len(raw) > MAX_RAW_CHARS:  # bound the work done on hostile input before any regex runs
        raw = raw[:MAX_RAW_CHARS]
        if repair is not None:
            repair.truncated = True
    if "<" in raw:
        text = _SCRIPT_STYLE.sub(" ", raw)
        text = _BLOCK_TAGS.sub("\n", text)
        text = _TAG.sub("", text)
        if text != raw:  # it was HTML: drop the remains of malformed tags too
            text = _BROKEN_TAG.sub("", text)
        if repair is not None:
            repair.html_stripped = text != raw
    else:
        text = raw
    if "&" in text:
        text = html.unescape(text)
    text = _CONTROL.sub("", text)
    text = _SPACE.sub(" ", text)
    text = _NEWLINES.sub("\n", text).strip()
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars - 1)
        text = text[: cut if cut > max_chars // 2 else max_chars - 1].rstrip() + "…"
        if repair is not None:
            repair.truncated = True
    return text


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from ISO 8601, RFC 822 or epoch seconds. Raises ``ValueError`` otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        if not 0 < value < 32_503_680_000:  # before year 3000
            raise ValueError(f"epoch seconds out of range: {value!r}")
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"not an ISO 8601 or RFC 822 timestamp: {text[:40]!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone offset: {text[:40]!r}")
    return moment.astimezone(UTC)


def decode_utf8(data: bytes) -> tuple[str, bool]:
    """Text from bytes that should be UTF-8; invalid sequences become U+FFFD. Returns (text, was_repaired)."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True
