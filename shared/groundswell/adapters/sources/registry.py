"""Builds the source object for a kind, with its HTTP client and its rate limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from groundswell.adapters.http import HttpClient
from groundswell.domain.sources import Source

# requests per second, from each API's published limit, with headroom for several pollers per process
RATE_LIMITS = {
    "bluesky": 8.0,  # 3,000 per 5 min per IP
    "mastodon": 0.8,  # 300 per 5 min per IP, per server
    "hackernews": 2.5,  # 10,000 per hour per IP
    "rss": 2.0,  # no published limit: be polite
}


def build_source(
    kind: str,
    *,
    bluesky_credentials: Callable[[], Any] | None = None,
    bluesky_service: str = "https://bsky.social",
    http_factory: Callable[..., HttpClient] = HttpClient,
    hackernews_api: str | None = None,
) -> Source:
    """The :class:`Source` for ``kind``; ``http_factory`` lets tests inject a transport."""
    if kind == "bluesky":
        from groundswell.adapters.sources.bluesky import BlueskySearch, BlueskySession

        if bluesky_credentials is None:
            raise ValueError("the bluesky source needs credentials: set BLUESKY_SECRET_ID")
        http = http_factory(name="bluesky", rate_per_second=RATE_LIMITS["bluesky"])
        return BlueskySearch(http, BlueskySession(http, bluesky_credentials, bluesky_service))
    if kind == "mastodon":
        from groundswell.adapters.sources.mastodon import MastodonTags

        def per_server(host: str) -> HttpClient:
            return http_factory(
                name=f"mastodon:{urlsplit(host).netloc}", rate_per_second=RATE_LIMITS["mastodon"], burst=3
            )

        return MastodonTags(per_server)
    if kind == "hackernews":
        from groundswell.adapters.sources.hackernews import API, HackerNewsSearch

        return HackerNewsSearch(
            http_factory(name="hackernews", rate_per_second=RATE_LIMITS["hackernews"]), api=hackernews_api or API
        )
    if kind == "rss":
        from groundswell.adapters.sources.rss import RssFeeds

        return RssFeeds(http_factory(name="rss", rate_per_second=RATE_LIMITS["rss"]))
    if kind == "replay":
        from groundswell.adapters.sources.replay import ReplayFeed

        return ReplayFeed()
    raise ValueError(f"unknown source {kind!r}")
