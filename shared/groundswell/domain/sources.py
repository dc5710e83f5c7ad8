"""The source protocol, the result of a fetch, and the helpers every source shares."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from pydantic import ValidationError

from groundswell.domain.models import Brand, Mention, SearchTerms
from groundswell.domain.text import SURROGATE, TextRepair, clean_text, parse_timestamp

Cursor = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """An item a source skipped or repaired, with the reason (logged as a structured warning)."""

    source: str
    item: str
    reason: str
    action: str = "skipped"  # or "repaired"


@dataclass
class FetchResult:
    """Mentions a poll found, and the cursor to save once they are stored."""

    mentions: list[Mention] = field(default_factory=list)
    cursor: Cursor | None = None
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False  # more was available than one poll takes; the next poll continues
    # whether the poll re-reads what earlier polls may have stored (an overlap window, federation): the
    # store then checks for existing mentions with cheap reads before its transactional writes
    may_overlap: bool = True


class Source(Protocol):
    kind: str

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        """Mentions of ``brand`` newer than ``cursor`` (``None``: first poll), up to ``now``."""
        ...


class TermMatcher:
    """Decides whether a text mentions a brand: any keyword, handle or hashtag, and no exclusion."""

    def __init__(self, terms: SearchTerms):
        include = [re.escape(k) for k in terms.keywords]
        include += [re.escape(h.lstrip("@")) for h in terms.handles]
        include += ["#" + re.escape(t) for t in terms.hashtags]
        self._include = re.compile(r"(?<![\w])@?(?:" + "|".join(include) + r")(?![\w])", re.IGNORECASE)
        self._exclude = (
            re.compile("|".join(re.escape(x) for x in terms.exclude), re.IGNORECASE) if terms.exclude else None
        )

    def excluded(self, text: str) -> bool:
        return bool(self._exclude and self._exclude.search(text))

    def matches(self, text: str) -> bool:
        return bool(self._include.search(text)) and not self.excluded(text)


def matcher_for(terms: SearchTerms) -> TermMatcher:
    return _matcher(terms.model_dump_json())


@lru_cache(maxsize=4096)
def _matcher(terms_json: str) -> TermMatcher:
    return TermMatcher(SearchTerms.model_validate_json(terms_json))


def build_mention(
    problems: list[Problem], *, source: str, item_id: str, text: str, html: bool = False, **fields: Any
) -> Mention | None:
    """A validated mention with cleaned text, or ``None`` with the reason added to ``problems``.

    ``html``: ``text`` is HTML (the source sends markup); otherwise it is plain text, taken as written."""
    repair = TextRepair()
    text = clean_text(text, html=html, repair=repair)
    if not text:
        problems.append(Problem(source, item_id, "empty text"))
        return None
    if repair.truncated:
        problems.append(Problem(source, item_id, "text longer than the limit, truncated", "repaired"))
    if repair.invalid_unicode:
        problems.append(Problem(source, item_id, "invalid Unicode (lone surrogates) replaced with U+FFFD", "repaired"))
    for fix in bound_fields(fields):
        problems.append(Problem(source, item_id, fix, "repaired"))
    try:
        created = fields.pop("created_at")
        return Mention(source=source, id=item_id, text=text, created_at=parse_timestamp(created), **fields)
    except (ValueError, ValidationError) as exc:
        problems.append(Problem(source, item_id, _first_error(exc)))
        return None


MAX_AUTHOR_CHARS = 200
MAX_URL_CHARS = 2048
LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}$")  # a BCP 47 tag, roughly


def bound_fields(fields: dict[str, Any]) -> list[str]:
    """Repairs, in place, the fields a stranger controls so that one post can always be stored: lone surrogates
    replaced, the author cut to 200 characters, an over-long url or a language that is not a tag dropped.
    Returns what was done, for the structured warning."""
    done = []
    for name in ("author", "url", "language"):
        value = fields.get(name)
        if isinstance(value, str) and SURROGATE.search(value):
            fields[name] = SURROGATE.sub("\ufffd", value)
            done.append(f"{name}: invalid Unicode replaced with U+FFFD")
    author = fields.get("author")
    if isinstance(author, str) and len(author) > MAX_AUTHOR_CHARS:
        fields["author"] = author[:MAX_AUTHOR_CHARS]
        done.append(f"author longer than {MAX_AUTHOR_CHARS} characters, cut")
    url = fields.get("url")
    if isinstance(url, str) and (len(url) > MAX_URL_CHARS or not url.isprintable()):
        fields["url"] = None
        done.append("url dropped: over-long or not printable")
    language = fields.get("language")
    if language is not None and not (isinstance(language, str) and LANGUAGE.match(language)):
        fields["language"] = None
        done.append("language dropped: not a language tag")
    return done


def poll_each(kind: str, endpoints: Iterable[str], poll: Callable[[str], None], result: FetchResult) -> None:
    """Polls several endpoints of one source (Mastodon servers, feeds): one failing does not hide the others'
    posts (it becomes a problem in ``result``); all failing raises, so the cursor stays where it is."""
    endpoints = list(endpoints)
    failures: list[tuple[str, str]] = []
    for endpoint in endpoints:
        try:
            poll(endpoint)
        except Exception as exc:
            failures.append((endpoint, f"{type(exc).__name__}: {exc}"))
    if failures and len(failures) == len(endpoints):
        raise RuntimeError(f"every {kind} endpoint failed: " + "; ".join(f"{e}: {why}" for e, why in failures))
    for endpoint, error in failures:
        result.problems.append(Problem(kind, endpoint, error, "endpoint skipped"))


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "item"
        return f"{where}: {err['msg']}"
    return str(exc)


def count_or_zero(value: object) -> int:
    """An engagement count: non-negative int, anything else counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def keep_matching(mentions: Iterable[Mention], brand: Brand, *, require_match: bool) -> list[Mention]:
    """Drops excluded mentions, and (for sources whose query is not a search) mentions that do not match."""
    matcher = matcher_for(brand.terms)
    if require_match:
        return [m for m in mentions if matcher.matches(m.text)]
    return [m for m in mentions if not matcher.excluded(m.text)]


def item_id(raw: Any, key: str) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    return str(value) if value not in (None, "") else "?"
