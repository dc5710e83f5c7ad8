"""RSS 2.0 and Atom feeds of publishers, filtered to items that mention the brand; HTML stripped.

Feeds are fetched with ``If-None-Match`` / ``If-Modified-Since`` so an unchanged feed costs one 304.
XML is parsed with defusedxml (no entity expansion, no external entities).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from groundswell.adapters.http import HttpClient
from groundswell.domain.models import Brand, RssSource
from groundswell.domain.sources import Cursor, FetchResult, Problem, build_mention, keep_matching, poll_each

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"


class RssFeeds:
    kind = "rss"

    def __init__(self, http: HttpClient):
        self._http = http

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        config = brand.source("rss")
        if not isinstance(config, RssSource):
            raise ValueError(f"brand {brand.name!r} has no rss source")
        state: dict[str, dict[str, str]] = {k: dict(v) for k, v in ((cursor or {}).get("feeds") or {}).items()}
        result = FetchResult()

        def poll_feed(url: str) -> None:
            state[url] = self._poll_feed(url, state.get(url, {}), brand, result, now)

        poll_each("rss", (str(f) for f in config.feeds), poll_feed, result)
        result.mentions = keep_matching(result.mentions, brand, require_match=True)
        result.cursor = {"feeds": state}
        return result

    def history(self, brand: Brand, since: datetime, until: datetime, cursor: Cursor | None) -> FetchResult:
        """The items of [since, until) that each feed still carries (``domain.backfill.HistorySource``): a
        feed keeps only its latest items, so this is as far back as it goes. One feed per call; one that
        fails is left out of the day, with a problem logged."""
        config = brand.source("rss")
        if not isinstance(config, RssSource):
            raise ValueError(f"brand {brand.name!r} has no rss source")
        feeds = [str(f) for f in config.feeds]
        index = int((cursor or {}).get("feed") or 0)
        result = FetchResult()
        if index >= len(feeds):
            return result
        try:
            response = self._http.request("GET", feeds[index])
            items = parse_feed(response.body, feeds[index], brand.name, result.problems)
        except Exception as exc:
            result.problems.append(Problem("rss", feeds[index], f"history unavailable: {exc}"[:200]))
            items = []
        inside = [m for m in items if since <= m.created_at < until]
        result.mentions = keep_matching(inside, brand, require_match=True)
        if index + 1 < len(feeds):
            result.cursor, result.truncated = {"feed": index + 1}, True
        return result

    def _poll_feed(
        self, url: str, state: dict[str, str], brand: Brand, result: FetchResult, now: datetime
    ) -> dict[str, str]:
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        response = self._http.request("GET", url, headers=headers, accept=(304,))
        if response.status == 304:
            return state
        items = parse_feed(response.body, url, brand.name, result.problems)
        newest = state.get("newest", "")
        fresh = [m for m in items if m.created_at.isoformat() > state.get("newest", "") and m.created_at <= now]
        result.mentions.extend(fresh)
        for mention in fresh:
            newest = max(newest, mention.created_at.isoformat())
        new_state = {"newest": newest}
        if etag := response.header("etag"):
            new_state["etag"] = etag
        if last_modified := response.header("last-modified"):
            new_state["last_modified"] = last_modified
        return new_state


def parse_feed(body: bytes, feed_url: str, brand: str, problems: list[Problem]) -> list[Any]:
    """Mentions from an RSS 2.0 or Atom document (raises ``ValueError`` if it is neither)."""
    try:
        root = ElementTree.fromstring(body)
    except Exception as exc:  # ParseError, or defusedxml's refusal of entities
        raise ValueError(f"feed is not well-formed XML: {exc}") from exc
    if root.tag == "rss" or root.find("channel") is not None:
        return [m for item in root.iter("item") if (m := _rss_item(item, feed_url, brand, problems))]
    if root.tag == f"{ATOM}feed":
        return [m for entry in root.iter(f"{ATOM}entry") if (m := _atom_entry(entry, feed_url, brand, problems))]
    raise ValueError(f"not an RSS or Atom feed (root element {root.tag!r})")


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _rss_item(item: Element, feed_url: str, brand: str, problems: list[Problem]) -> Any:
    link = _text(item, "link")
    ident = _text(item, "guid") or link
    if not ident:
        problems.append(Problem("rss", feed_url, "item without guid or link"))
        return None
    title, body = _text(item, "title"), _text(item, f"{CONTENT}encoded") or _text(item, "description")
    source_el = item.find("source")
    author = (
        _text(item, "author")
        or _text(item, f"{DC}creator")
        or ((source_el.text or "").strip() if source_el is not None else "")
        or feed_url
    )
    if source_el is not None and source_el.text and title.endswith(f" - {source_el.text.strip()}"):
        title = title[: -len(source_el.text.strip()) - 3]  # Google-News-style "Headline - Outlet"
    return build_mention(
        problems,
        source="rss",
        item_id=ident,
        text=f"<p>{escape(title)}</p>{_summary(body, title)}",
        html=True,
        brand=brand,
        author=author,
        created_at=_text(item, "pubDate") or _text(item, f"{DC}date"),
        url=link if link.startswith(("http://", "https://")) else None,
    )


def _atom_entry(entry: Element, feed_url: str, brand: str, problems: list[Problem]) -> Any:
    link_el = next((li for li in entry.findall(f"{ATOM}link") if li.get("rel", "alternate") == "alternate"), None)
    link = link_el.get("href", "") if link_el is not None else ""
    ident = _text(entry, f"{ATOM}id") or link
    if not ident:
        problems.append(Problem("rss", feed_url, "entry without id or link"))
        return None
    title = _text(entry, f"{ATOM}title")
    body = _text(entry, f"{ATOM}summary") or _text(entry, f"{ATOM}content")
    return build_mention(
        problems,
        source="rss",
        item_id=ident,
        text=f"<p>{escape(title)}</p>{_summary(body, title)}",
        html=True,
        brand=brand,
        author=_text(entry, f"{ATOM}author/{ATOM}name") or feed_url,
        created_at=_text(entry, f"{ATOM}published") or _text(entry, f"{ATOM}updated"),
        url=link if link.startswith(("http://", "https://")) else None,
    )


def _summary(body: str, title: str) -> str:
    """The body, unless it only repeats the title (common in aggregator feeds)."""
    return "" if title and title in body and len(body) < len(title) + 200 else body
