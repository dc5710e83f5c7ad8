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
                hits, pages = self._search(phrase, tags, page, f"created_at_i>{after},created_at_i<={upto}")
                for hit in hits:
                    mention = _to_mention(hit, brand.name, result.problems)
                    if mention is not None and mention.id not in seen:
                        seen.add(mention.id)
                        result.mentions.append(mention)
                        newest = max(newest, int(mention.created_at.timestamp()))
                if page + 1 >= pages:
                    break
                if page == self._max_pages - 1:
                    result.truncated = True
        result.mentions = keep_matching(result.mentions, brand, require_match=False)
        result.cursor = {"created_at_i": newest}
        return result

    def history(self, brand: Brand, since: datetime, until: datetime, cursor: Cursor | None) -> FetchResult:
        """One page of [since, until), newest first (``domain.backfill.HistorySource``). The cursor walks the
        brand's query phrases, each one's pages, and past Algolia's 1,000-hit cap by narrowing ``before`` to
        the oldest hit seen (that second is read again: the mention guard drops the repeats)."""
        config = brand.source("hackernews")
        tags = config.tags if isinstance(config, HackerNewsSource) else "(story,comment)"
        phrases = brand.terms.query_phrases()
        state = cursor or {}
        phrase, page = int(state.get("phrase") or 0), int(state.get("page") or 0)
        before = int(state.get("before") or until.timestamp())
        result = FetchResult()
        if phrase >= len(phrases):
            return result
        window = f"created_at_i>={int(since.timestamp())},created_at_i<{before}"
        hits, pages = self._search(phrases[phrase], tags, page, window)
        result.mentions = [m for hit in hits if (m := _to_mention(hit, brand.name, result.problems)) is not None]
        oldest = min((int(m.created_at.timestamp()) for m in result.mentions), default=None)
        if page + 1 < min(pages, self._max_pages):
            result.cursor = {"phrase": phrase, "page": page + 1, "before": before}
        elif page + 1 >= self._max_pages and pages > self._max_pages and oldest is not None and oldest + 1 < before:
            result.cursor = {"phrase": phrase, "page": 0, "before": oldest + 1}  # past the 1,000-hit cap
        elif phrase + 1 < len(phrases):
            result.cursor = {"phrase": phrase + 1, "page": 0, "before": int(until.timestamp())}
        result.truncated = result.cursor is not None
        result.mentions = keep_matching(result.mentions, brand, require_match=False)
        return result

    def _search(self, phrase: str, tags: str, page: int, numeric_filters: str) -> tuple[list[Any], int]:
        """One page of ``search_by_date``: its hits and how many pages the query has."""
        body = self._http.get_json(
            self._api,
            {
                "query": phrase.lstrip("#"),
                "tags": tags,
                "hitsPerPage": PAGE_SIZE,
                "page": page,
                "numericFilters": numeric_filters,
            },
        )
        hits = body.get("hits") if isinstance(body, dict) else None
        if not isinstance(hits, list):
            raise HttpError("Algolia reply has no 'hits' list")
        return hits, int(body.get("nbPages") or 0)


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
