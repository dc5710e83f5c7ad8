"""Bluesky ``app.bsky.feed.searchPosts`` with an app-password session.

Public search needs an authenticated session since January 2025 (atproto #3423), so the source logs in
with ``com.atproto.server.createSession`` and reuses the session across polls and brands (the login is
limited to 30 per 5 minutes and 300 a day per account), refreshing it when the server says it expired.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from groundswell.adapters.http import HttpClient, HttpError
from groundswell.domain.models import BlueskySource, Brand
from groundswell.domain.sources import (
    Cursor,
    FetchResult,
    Problem,
    build_mention,
    count_or_zero,
    item_id,
    keep_matching,
)
from groundswell.observability import count, logger

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


# Bluesky allows 30 logins per 5 minutes and 300 a day per account. These caps are per container: with
# PollConcurrency pollers (default 5, at most 6 for these figures) the account stays within both.
LOGIN_WINDOW_SECONDS = 300.0
MAX_LOGINS_PER_WINDOW = 5
MAX_LOGINS_PER_DAY = 50
FIRST_HOLD_SECONDS = 60.0  # after a login that failed for a passing reason; doubles up to LONGEST_HOLD
LONGEST_HOLD_SECONDS = 1800.0
RECHECK_REFUSED_SECONDS = 300.0  # refused credentials: how often the secret is read again for a new password
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})


class LoginRefused(HttpError):
    """Bluesky refused the app password (wrong, revoked, or the account is taken down): no further login with
    it until the secret holds another one."""


class BlueskySession:
    """One account's session, shared by every brand the container polls (the source is built once).

    It logs in lazily, refreshes on a token error, and never storms the login endpoint:
    - a refused password is remembered (by fingerprint) and not sent again until the secret changes; each poll
      meanwhile fails at once with :class:`LoginRefused` (counted as ``BlueskyLoginRefused``, alarmed);
    - a login that failed for a passing reason (429, 5xx, network) holds further logins for the server's
      ``Retry-After``/``RateLimit-Reset`` or a doubling pause;
    - a refresh that fails for a passing reason keeps both tokens; only a token error drops them;
    - whatever happens, at most ``MAX_LOGINS_PER_WINDOW`` logins per 5 minutes leave this container.
    """

    def __init__(
        self,
        http: HttpClient,
        credentials: Callable[[], BlueskyCredentials],
        service: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._http, self._credentials, self.service = http, credentials, service.rstrip("/")
        self._login_http = replace(http, max_attempts=1)  # a retried login is another login
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._logins: deque[float] = deque()
        self._hold_until = 0.0
        self._hold_seconds = 0.0
        self._hold_reason = ""
        self._refused: str | None = None  # fingerprint of the refused credentials

    def logins(self, within: float = LOGIN_WINDOW_SECONDS) -> int:
        """Login requests sent in the last ``within`` seconds (a day at most)."""
        now = self._clock()
        while self._logins and self._logins[0] <= now - 86400:
            self._logins.popleft()
        return sum(stamp > now - within for stamp in self._logins)

    def headers(self) -> dict[str, str]:
        if self._access is None:
            self._login()
        return {"Authorization": f"Bearer {self._access}"}

    def _login(self) -> None:
        now = self._clock()
        if now < self._hold_until:
            raise self._on_hold(now)
        creds = self._credentials()
        fingerprint = _fingerprint(creds)
        if fingerprint == self._refused:
            self._hold_until, self._hold_reason = now + RECHECK_REFUSED_SECONDS, "refused"
            count("BlueskyLoginRefused")
            raise LoginRefused(
                f"Bluesky refused the app password of {creds.identifier!r}: put a new one in the secret",
                status=401,
            )
        if self.logins() >= MAX_LOGINS_PER_WINDOW or self.logins(86400) >= MAX_LOGINS_PER_DAY:
            raise HttpError("as many Bluesky logins as this container allows itself already: waiting", status=429)
        self._logins.append(now)
        try:
            reply = self._login_http.post_json(
                f"{self.service}/xrpc/com.atproto.server.createSession",
                {"identifier": creds.identifier, "password": creds.app_password},
            )
        except HttpError as exc:
            if exc.status in (400, 401) and exc.error_code not in ("RateLimitExceeded",):
                self._refused = fingerprint
                self._hold_until, self._hold_reason = now + RECHECK_REFUSED_SECONDS, "refused"
                count("BlueskyLoginRefused")
                logger.error(
                    "Bluesky refused the app password; no further login until the secret changes",
                    extra={"identifier": creds.identifier, "status": exc.status, "error": exc.error_code},
                )
                raise LoginRefused(
                    f"Bluesky refused the app password of {creds.identifier!r} ({exc.error_code or exc.status}): "
                    "put a new one in the secret",
                    status=exc.status,
                ) from None
            self._hold(now, exc)
            raise
        self._refused, self._hold_seconds = None, 0.0
        self._store(reply)

    def _hold(self, now: float, exc: HttpError) -> None:
        """No login for a pause doubling from a minute to half an hour, or until the server's stated reset."""
        self._hold_seconds = min(LONGEST_HOLD_SECONDS, max(FIRST_HOLD_SECONDS, 2 * self._hold_seconds))
        wait = max(self._hold_seconds, exc.retry_after or 0.0)
        self._hold_until, self._hold_reason = now + wait, f"the last login failed: {exc}"

    def _on_hold(self, now: float) -> HttpError:
        if self._hold_reason == "refused":
            count("BlueskyLoginRefused")
            return LoginRefused("Bluesky refused this app password: put a new one in the secret", status=401)
        return HttpError(
            f"Bluesky login paused for {self._hold_until - now:.0f} s more ({self._hold_reason})", status=429
        )

    def renew(self) -> None:
        """After a token error: refresh; log in again only if the refresh token itself is refused."""
        if self._refresh:
            try:
                reply = self._http.request(
                    "POST",
                    f"{self.service}/xrpc/com.atproto.server.refreshSession",
                    headers={"Authorization": f"Bearer {self._refresh}"},
                ).json()
            except HttpError as exc:
                if not is_token_error(exc):
                    raise  # a passing failure: both tokens stay for the next poll
            else:
                self._store(reply)
                return
        self._access = self._refresh = None
        self._login()

    def _store(self, reply: Any) -> None:
        if not isinstance(reply, dict) or not isinstance(reply.get("accessJwt"), str) or not reply["accessJwt"]:
            raise HttpError("Bluesky session reply has no accessJwt")
        refresh = reply.get("refreshJwt")
        self._access, self._refresh = reply["accessJwt"], refresh if isinstance(refresh, str) else None


def is_token_error(exc: HttpError) -> bool:
    """The session's token is expired or invalid (renew it), as opposed to a bad request or a passing failure."""
    if exc.status == 401:
        return exc.error_code != "RateLimitExceeded"
    return exc.status == 400 and exc.error_code in TOKEN_ERRORS


def _fingerprint(creds: BlueskyCredentials) -> str:
    return hashlib.sha256(f"{creds.identifier}\0{creds.app_password}".encode()).hexdigest()


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
        query = _query(brand)
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

    def history(self, brand: Brand, since: datetime, until: datetime, cursor: Cursor | None) -> FetchResult:
        """One page of [since, until), newest first (``domain.backfill.HistorySource``): searchPosts with
        ``since``/``until`` and ``sort=latest``, continued with its own ``cursor``."""
        config = brand.source("bluesky")
        lang = config.lang if isinstance(config, BlueskySource) else None
        params = {
            "q": _query(brand),
            "sort": "latest",
            "limit": PAGE_SIZE,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "lang": lang,
            "cursor": (cursor or {}).get("cursor"),
        }
        body = self._search(params)
        posts = body.get("posts") if isinstance(body, dict) else None
        if not isinstance(posts, list):
            raise HttpError("Bluesky searchPosts reply has no 'posts' list")
        result = FetchResult()
        result.mentions = [m for post in posts if (m := self._to_mention(post, brand.name, result.problems))]
        result.mentions = keep_matching(
            [m for m in result.mentions if since <= m.created_at < until], brand, require_match=False
        )
        next_page = body.get("cursor")
        if isinstance(next_page, str) and next_page and len(posts) >= PAGE_SIZE:
            result.cursor, result.truncated = {"cursor": next_page}, True
        return result

    def _search(self, params: dict[str, Any]) -> Any:
        url = f"{self._session.service}/xrpc/app.bsky.feed.searchPosts"
        try:
            return self._http.get_json(url, params, self._session.headers())
        except HttpError as exc:
            if is_token_error(exc):  # a bad query (400 InvalidRequest) leaves the session alone
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
            text=str(record.get("text") or ""),
            brand=brand,
            author=str(handle),
            created_at=record.get("createdAt") or post.get("indexedAt"),
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            likes=count_or_zero(post.get("likeCount")),
            reposts=count_or_zero(post.get("repostCount")) + count_or_zero(post.get("quoteCount")),
            replies=count_or_zero(post.get("replyCount")),
            language=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        )


def _query(brand: Brand) -> str:
    """The brand's search terms as one searchPosts query: phrases quoted, any of them."""
    return " | ".join(f'"{p}"' if " " in p else p for p in brand.terms.query_phrases())


def _minus(stamp: str, delta: timedelta) -> str:
    return (datetime.fromisoformat(stamp) - delta).isoformat()
