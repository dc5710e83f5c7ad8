"""Text hygiene for post text written by strangers: HTML stripped where a source sends HTML, invisible and
direction-changing characters removed, length bounded."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser

MAX_TEXT_CHARS = 2000
MAX_RAW_CHARS = 200_000

# Unicode's format characters (category Cf: soft hyphen, zero-width and bidi controls, word joiner, Arabic letter
# mark, tag characters, ...) as ranges, so nothing is computed at import; tests/unit/test_text.py checks that
# every Cf character of this Python's Unicode database is covered. The zero-width joiner is handled apart.
_FORMAT_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200C),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)  # fmt: skip  (a table: one range per pair reads better than one per line)
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    + "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in _FORMAT_RANGES)
    + "]"
)
_EMOJI = "\u2600-\u27bf\ufe0f\U0001f000-\U0001faff"
_LONE_JOINER = re.compile(f"(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])")  # kept only inside emoji sequences
SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029\x85]")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_NEWLINES = re.compile(r"\n\s*\n+")


class TextRepair:
    """What ``clean_text`` had to do to a text, for the structured warning."""

    __slots__ = ("html_stripped", "invalid_unicode", "truncated")

    def __init__(self) -> None:
        self.html_stripped = False
        self.truncated = False
        self.invalid_unicode = False


class _TextOfHtml(HTMLParser):
    """The text of an HTML fragment: tags dropped, entities decoded, block ends as line breaks, script and
    style contents left out. The standard library's tolerant parser, made to never raise on malformed markup."""

    BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "blockquote", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags = 0
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self.tags += 1
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """A ``<![`` that opens no well-formed marked section is text: the standard library raises an
        AssertionError on it ("expected name token"), which would stop the source on one hostile post."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            self.handle_data(self.rawdata[i : i + 3])
            return i + 3


def html_to_text(markup: str) -> tuple[str, bool]:
    """(text, whether it held markup) of an HTML fragment."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    return text, parser.tags > 0 or text != markup


def clean_text(
    raw: str, *, html: bool = False, max_chars: int = MAX_TEXT_CHARS, repair: TextRepair | None = None
) -> str:
    """Plain text from a post body, safe to match, store and show.

    ``html``: the source sends HTML (Mastodon statuses, RSS/Atom summaries, Hacker News comments): tags are
    dropped and entities decoded. Otherwise the text is taken as written (``<3`` and ``a < b > c`` stay);
    only character references are decoded (tweet exports write ``&amp;`` and ``&lt;``).

    Either way the result has no invisible (Unicode format, control) or direction-changing characters,
    collapsed white space and at most ``max_chars`` characters (cut at a word boundary, ending in an
    ellipsis).
    """
    if len(raw) > MAX_RAW_CHARS:  # bound the work done on hostile input
        raw = raw[:MAX_RAW_CHARS]
        if repair is not None:
            repair.truncated = True
    if SURROGATE.search(raw):  # lone surrogates (from JSON escapes) cannot be stored or sent as UTF-8
        raw = SURROGATE.sub("\ufffd", raw)
        if repair is not None:
            repair.invalid_unicode = True
    text = raw
    if html:
        text, had_markup = html_to_text(raw)
        if repair is not None:
            repair.html_stripped = had_markup
    elif "&" in text:  # exports of tweets escape &, < and > even in plain text
        text = unescape(text)
    text = _LINE_SEPARATORS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    if "\u200d" in text:
        text = _LONE_JOINER.sub("", text)
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
