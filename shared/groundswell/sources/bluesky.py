"""Bluesky ``app.bsky.feed.searchPosts`` with an app-password session.

Public search needs an authenticated session since January 2025 (atproto #3423), so the source logs in
with ``com.atproto.server.createSession`` and reuses the session across polls (the login is limited to
30 per 5 minutes per account), refreshing it when the server says it expired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from groundswell.http import HttpClient, HttpError
from groundswell.models import BlueskySource, Brand
from groundswell.sources.base import Cursor, FetchResult, Problem, build_mention, count_or_zero, item_id, keep_matching

DEFAULT_SERVICE = "https://bsky.social"
PAGE_SIZE = 100
MAX_PAGES = 5
OVERLAP = timedelta(minutes=2)  # re-read the edge: late-indexed posts; duplicates are dropped by the store


@dataclass(frozen=True)
class BlueskyCredentials:
    identifier: str  # handle or email
    app_password: str

    def __repr__(self) -> str:  # never print the password
        return f"BlueskyCredentials(identifier={self.identifier!r}, app_password='***')"


class BlueskySession:
    """Holds the access token; logs in lazily and refreshes on ``ExpiredToken``."""

    def __init__(self, http: HttpClient, credentials: Callable[[], BlueskyCredentials], service: str):
        self._http, self._credentials, self.service = http, credentials, service.rstrip("/")
        self._access: str | None = None
        self._refresh: str | None = None

    def headers(self) -> dict[str, str]:
        if self._access is None:
            self._login()
        return {"Authorization": f"Bearer {self._access}"}

    def _login(self) -> None:
        creds = self._credentials()
        reply = self._http.post_json(
            f"{self.service}/xrpc/com.atproto.server.createSession",
            {"identifier": creds.identifier, "password": creds.app_password},
        )
        self._store(reply)

    def renew(self) -> None:
        """After a 400/401 ``ExpiredToken``: refresh, or log in again if the refresh token is gone too."""
        if self._refresh:
            try:
                reply = self._http.request(
                    "POST",
                    f"{self.service}/xrpc/com.atproto.server.refreshSession",
                    headers={"Authorization": f"Bearer {self._refresh}"},
                ).json()
                self._store(reply)
                return
            except HttpError:
                pass
        self._access = self._refresh = None
        self._login()

    def _store(self, reply: Any) -> None:
        if not isinstance(reply, dict) or not reply.get("accessJwt"):
            raise HttpError("Bluesky session reply has no accessJwt")
        self._access, self._refresh = reply["accessJwt"], reply.get("refreshJwt")


class BlueskySearch:
    kind = "bluesky"

    def __init__(self, http: HttpClient, session: BlueskySession, max_pages: int = MAX_PAGES):
        self._http, self._session, self._max_pages = http, session, max_pages

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        config = brand.source("bluesky")
        lang = config.lang if isinstance(config, BlueskySource) else None
        since = (cursor or {}).get("since") or (now - timedelta(hours=1)).isoformat()
        result = FetchResult()
        newest: str | None = (cursor or {}).get("since")
        query = " | ".join(f'"{p}"' if " " in p else p for p in brand.terms.query_phrases())
        page_cursor: str | None = None
        for page in range(self._max_pages):
            params = {
                "q": query,
                "sort": "latest",
                "limit": PAGE_SIZE,
                "since": since,
                "until": now.isoformat(),
                "lang": lang,
                "cursor": page_cursor,
            }
            body = self._search(params)
            posts = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(posts, list):
                raise HttpError("Bluesky searchPosts reply has no 'posts' list")
            for post in posts:
                mention = self._to_mention(post, brand.name, result.problems)
                if mention is not None:
                    result.mentions.append(mention)
                    stamp = mention.created_at.isoformat()
                    newest = stamp if newest is None or stamp > newest else newest
            page_cursor = body.get("cursor")
            if not page_cursor or len(posts) < PAGE_SIZE:
                break
            if page == self._max_pages - 1:
                result.truncated = True
        result.mentions = keep_matching(result.mentions, brand, require_match=False)
        since_next = newest or since
        result.cursor = {"since": _minus(since_next, OVERLAP)}
        return result

    def _search(self, params: dict[str, Any]) -> Any:
        url = f"{self._session.service}/xrpc/app.bsky.feed.searchPosts"
        try:
            return self._http.get_json(url, params, self._session.headers())
        except HttpError as exc:
            if exc.status in (400, 401):  # ExpiredToken / InvalidToken
                self._session.renew()
                return self._http.get_json(url, params, self._session.headers())
            raise

    @staticmethod
    def _to_mention(post: Any, brand: str, problems: list[Problem]) -> Any:
        uri = item_id(post, "uri")
        record = post.get("record") if isinstance(post, dict) else None
        author = post.get("author") if isinstance(post, dict) else None
        if not isinstance(record, dict) or not isinstance(author, dict) or uri == "?":
            problems.append(Problem("bluesky", uri, "post without uri, record or author"))
            return None
        handle = author.get("handle") or author.get("did") or "?"
        rkey = uri.rsplit("/", 1)[-1]
        langs = record.get("langs")
        return build_mention(
            problems,
            source="bluesky",
            item_id=uri,
            text_html=str(record.get("text") or ""),
            brand=brand,
            author=str(handle),
            created_at=record.get("createdAt") or post.get("indexedAt"),
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            likes=count_or_zero(post.get("likeCount")),
            reposts=count_or_zero(post.get("repostCount")) + count_or_zero(post.get("quoteCount")),
            replies=count_or_zero(post.get("replyCount")),
            language=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        )


def _minus(stamp: str, delta: timedelta) -> str:
    return (datetime.fromisoformat(stamp) - delta).isoformat()
