"""Mastodon public hashtag timelines on several servers; a post seen on two servers counts once (``uri``)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from groundswell.adapters.http import HttpClient
from groundswell.domain.models import Brand, MastodonSource
from groundswell.domain.sources import (
    Cursor,
    FetchResult,
    Problem,
    build_mention,
    count_or_zero,
    item_id,
    keep_matching,
    poll_each,
)

PAGE_SIZE = 40  # the API's maximum
MAX_PAGES = 5


class MastodonTags:
    kind = "mastodon"

    def __init__(self, http_for_server: Any, max_pages: int = MAX_PAGES):
        """``http_for_server(host) -> HttpClient``: each server has its own rate limit (300 per 5 min)."""
        self._http_for_server = http_for_server
        self._max_pages = max_pages

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        config = brand.source("mastodon")
        if not isinstance(config, MastodonSource):
            raise ValueError(f"brand {brand.name!r} has no mastodon source")
        tags = _tags(brand)
        positions: dict[str, str] = dict((cursor or {}).get("min_id", {}))
        result = FetchResult()
        seen: set[str] = set()

        def poll_server(host: str) -> None:
            newest = self._poll_server(host, tags, positions.get(host), brand, result, seen, now)
            if newest is not None:
                positions[host] = newest

        poll_each("mastodon", (str(s).rstrip("/") for s in config.servers), poll_server, result)
        result.mentions = keep_matching(result.mentions, brand, require_match=False)
        result.cursor = {"min_id": positions}
        return result

    def _poll_server(
        self,
        host: str,
        tags: list[str],
        min_id: str | None,
        brand: Brand,
        result: FetchResult,
        seen: set[str],
        now: datetime,
    ) -> str | None:
        http: HttpClient = self._http_for_server(host)
        url = f"{host}/api/v1/timelines/tag/{tags[0]}"
        newest = min_id
        for page in range(self._max_pages):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "any[]": tags[1:] or None}
            if newest:
                params["min_id"] = newest  # the page right after what we saw, walking forward
            statuses = http.get_json(url, params)
            if not isinstance(statuses, list):
                raise ValueError("tag timeline reply is not a list")
            for status in statuses:
                sid = item_id(status, "id")
                if sid != "?" and (newest is None or _id_after(sid, newest)):
                    newest = sid
                mention = self._to_mention(status, brand.name, result.problems, host)
                if mention is not None and mention.id not in seen:
                    seen.add(mention.id)
                    result.mentions.append(mention)
            if len(statuses) < PAGE_SIZE or min_id is None:
                break  # first poll of a server: only the newest page, then walk forward from it
            if page == self._max_pages - 1:
                result.truncated = True
        return newest

    def history(self, brand: Brand, since: datetime, until: datetime, cursor: Cursor | None) -> FetchResult:
        """One page of [since, until), newest first (``domain.backfill.HistorySource``): each server's tag
        timeline paged back with ``max_id``, starting at ``until`` (Mastodon's ids are Snowflakes: the time in
        their upper bits; a server whose ids are not simply starts from its newest). A server that fails is
        left out of the day, with a problem logged: history is best effort, the live poll is what counts."""
        config = brand.source("mastodon")
        if not isinstance(config, MastodonSource):
            raise ValueError(f"brand {brand.name!r} has no mastodon source")
        servers = [str(s).rstrip("/") for s in config.servers]
        tags = _tags(brand)
        state = cursor or {}
        index = int(state.get("server") or 0)
        result = FetchResult()
        if index >= len(servers):
            return result
        host = servers[index]
        max_id = str(state.get("max_id") or int(until.timestamp() * 1000) << 16)
        try:
            statuses = self._http_for_server(host).get_json(
                f"{host}/api/v1/timelines/tag/{tags[0]}",
                {"limit": PAGE_SIZE, "any[]": tags[1:] or None, "max_id": max_id},
            )
            if not isinstance(statuses, list):
                raise ValueError("tag timeline reply is not a list")
        except Exception as exc:
            result.problems.append(Problem("mastodon", host, f"history unavailable: {exc}"[:200]))
            statuses = []
        oldest_id, oldest_at = None, None
        for status in statuses:
            mention = self._to_mention(status, brand.name, result.problems, host)
            sid = item_id(status, "id")
            if sid != "?" and (oldest_id is None or _id_after(oldest_id, sid)):
                oldest_id = sid
            if mention is not None:
                oldest_at = mention.created_at if oldest_at is None else min(oldest_at, mention.created_at)
                if since <= mention.created_at < until:
                    result.mentions.append(mention)
        result.mentions = keep_matching(result.mentions, brand, require_match=False)
        more_here = len(statuses) >= PAGE_SIZE and oldest_id is not None and (oldest_at is None or oldest_at >= since)
        if more_here:
            result.cursor = {"server": index, "max_id": oldest_id}
        elif index + 1 < len(servers):
            result.cursor = {"server": index + 1}
        result.truncated = result.cursor is not None
        return result

    @staticmethod
    def _to_mention(status: Any, brand: str, problems: list[Problem], host: str) -> Any:
        if not isinstance(status, dict):
            problems.append(Problem("mastodon", host, "status is not an object"))
            return None
        original: dict[str, Any] = status["reblog"] if isinstance(status.get("reblog"), dict) else status
        uri = item_id(original, "uri")
        account = original.get("account")
        if uri == "?" or not isinstance(account, dict):
            problems.append(Problem("mastodon", item_id(status, "id"), "status without uri or account"))
            return None
        text = str(original.get("content") or "")  # HTML
        if original.get("spoiler_text"):  # plain text
            text = f"<p>{escape(str(original['spoiler_text']))}</p>{text}"
        url = original.get("url") if isinstance(original.get("url"), str) else None
        return build_mention(
            problems,
            source="mastodon",
            item_id=uri,
            text=text,
            html=True,
            brand=brand,
            author=str(account.get("acct") or account.get("username") or "?"),
            created_at=original.get("created_at"),
            url=url or (uri if uri.startswith("http") else None),
            likes=count_or_zero(original.get("favourites_count")),
            reposts=count_or_zero(original.get("reblogs_count")),
            replies=count_or_zero(original.get("replies_count")),
            language=original.get("language") if isinstance(original.get("language"), str) else None,
        )


def _tags(brand: Brand) -> list[str]:
    """The tags a brand is followed by: its hashtags, else its terms run together (``acme air`` -> ``acmeair``)."""
    return brand.terms.hashtags or [p.replace(" ", "").lstrip("@").split("@")[0] for p in brand.terms.query_phrases()]


def _id_after(candidate: str, current: str) -> bool:
    """Mastodon ids are numeric strings that grow with time; compare as numbers when they are."""
    if candidate.isdigit() and current.isdigit():
        return int(candidate) > int(current)
    return candidate > current
