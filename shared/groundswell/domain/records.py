"""The public mention format (JSON Lines for replays, JSON batches for pushes), see docs/mention-format.md."""

from __future__ import annotations

import json
from typing import Any

from groundswell.domain.models import Mention, Sentiment
from groundswell.domain.sources import Problem, build_mention, count_or_zero

REQUIRED = ("id", "created_at", "text", "author")
SENTIMENTS = {s.value for s in Sentiment}


def parse_record(
    raw: Any, *, brand: str, default_source: str, problems: list[Problem], where: str = ""
) -> Mention | None:
    """One mention from a record of the public format, or ``None`` (reason appended to ``problems``)."""
    label = where or "record"
    if not isinstance(raw, dict):
        problems.append(Problem(default_source, label, f"expected a JSON object, got {type(raw).__name__}"))
        return None
    missing = [k for k in REQUIRED if raw.get(k) in (None, "")]
    if missing:
        problems.append(Problem(default_source, str(raw.get("id") or label), f"missing {', '.join(missing)}"))
        return None
    ident = str(raw["id"])
    if not isinstance(raw["text"], str):
        problems.append(Problem(default_source, ident, "text: must be a string"))
        return None
    sentiment = raw.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENTS:
        problems.append(
            Problem(
                default_source,
                ident,
                f"sentiment {sentiment!r} ignored (not one of negative|neutral|positive); the scorer decides",
                "repaired",
            )
        )
        sentiment = None
    url = raw.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        problems.append(Problem(default_source, ident, "url dropped: only http(s) links are kept", "repaired"))
        url = None
    source = raw.get("source") or default_source
    return build_mention(
        problems,
        source=str(source)[:40],
        item_id=ident,
        text=raw["text"],
        brand=brand,
        author=str(raw["author"])[:200],
        created_at=raw["created_at"],
        url=url,
        likes=count_or_zero(raw.get("likes")),
        reposts=count_or_zero(raw.get("reposts")),
        replies=count_or_zero(raw.get("replies")),
        language=raw.get("language") if isinstance(raw.get("language"), str) else None,
        sentiment=sentiment,
    )


def parse_line(line: str, *, brand: str, default_source: str, problems: list[Problem], where: str) -> Mention | None:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.append(Problem(default_source, where, f"not valid JSON: {exc.msg} at column {exc.colno}"))
        return None
    return parse_record(raw, brand=brand, default_source=default_source, problems=problems, where=where)


def to_record(mention: Mention) -> dict[str, Any]:
    """A mention in the public format (the inverse of :func:`parse_record`)."""
    record: dict[str, Any] = {
        "id": mention.id,
        "created_at": mention.created_at.isoformat().replace("+00:00", "Z"),
        "text": mention.text,
        "author": mention.author,
        "source": mention.source,
    }
    if mention.url:
        record["url"] = mention.url
    for key in ("likes", "reposts", "replies"):
        if getattr(mention, key):
            record[key] = getattr(mention, key)
    if mention.language:
        record["language"] = mention.language
    if mention.sentiment:
        record["sentiment"] = mention.sentiment.value
    return record
