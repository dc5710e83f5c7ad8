"""Hacker News through Algolia ``search_by_date``, polled forward from a ``created_at_i`` watermark.

Only the first 1,000 hits of a query can be reached (algolia/hn-search #230), so each poll asks only for
what is newer than the last hit it stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from groundswell.adapters.http import HttpClient, HttpError
from groundswell.domain.models import Brand, HackerNewsSource
from groundswell.domain.sources import (
    Cursor,
    FetchResult,
    Problem,
    build_mention,
    count_or_zero,
    item_id,
    keep_matching,
)

API = "https://hn.algolia.com/api/v1/search_by_date"
PAGE_SIZE = 100
MAX_PAGES = 10
FIRST_POLL_LOOKBACK = timedelta(hours=1)


class HackerNewsSearch:
    kind = "hackernews"

    def __init__(self, http: HttpClient, api: str = API, max_pages: int = MAX_PAGES):
        self._http, self._api, self._max_pages = http, api, max_pages

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        config = brand.source("hackernews")
        tags = config.tags if isinstance(config, HackerNewsSource) else "(story,comment)"
        after = int((cursor or {}).get("created_at_i") or (now - FIRST_POLL_LOOKBACK).timestamp())
        upto = int(now.timestamp())
        result = FetchResult(may_overlap=False)  # created_at_i > watermark: exclusive
        newest = after
        seen: set[str] = set()
        for phrase in brand.terms.query_phrases():
            for page in range(self._max_pages):
                body = self._http.get_json(
                    self._api,
                    {
                        "query": phrase.lstrip("#"),
                        "tags": tags,
                        "hitsPerPage": PAGE_SIZE,
                        "page": page,
                        "numericFilters": f"created_at_i>{after},created_at_i<={upto}",
                    },
                )
                hits = body.get("hits") if isinstance(body, dict) else None
                if not isinstance(hits, list):
                    raise HttpError("Algolia reply has no 'hits' list")
                for hit in hits:
                    mention = _to_mention(hit, brand.name, result.problems)
                    if mention is not None and mention.id not in seen:
                        seen.add(mention.id)
                        result.mentions.append(mention)
                        newest = max(newest, int(mention.created_at.timestamp()))
                if page + 1 >= int(body.get("nbPages") or 0):
                    break
                if page == self._max_pages - 1:
                    result.truncated = True
        result.mentions = keep_matching(result.mentions, brand, require_match=False)
        result.cursor = {"created_at_i": newest}
        return result


def _to_mention(hit: Any, brand: str, problems: list[Problem]) -> Any:
    object_id = item_id(hit, "objectID")
    if object_id == "?" or not isinstance(hit, dict):
        problems.append(Problem("hackernews", object_id, "hit without objectID"))
        return None
    title = escape(str(hit.get("title") or ""))  # plain text; story and comment texts are HTML
    parts = [f"<p>{title}</p>" if title else "", hit.get("story_text"), hit.get("comment_text")]
    text = "".join(str(p) for p in parts if p)
    created = hit.get("created_at_i") if hit.get("created_at_i") is not None else hit.get("created_at")
    url = hit.get("url") or f"https://news.ycombinator.com/item?id={object_id}"
    return build_mention(
        problems,
        source="hackernews",
        item_id=object_id,
        text=text,
        html=True,
        brand=brand,
        author=str(hit.get("author") or "?"),
        created_at=created,
        url=str(url),
        likes=count_or_zero(hit.get("points")),
        replies=count_or_zero(hit.get("num_comments")),
    )
