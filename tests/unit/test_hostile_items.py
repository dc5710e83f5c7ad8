"""Property-based: whatever a stranger puts in a post (any text, lone surrogates, huge or odd fields), every
source parser and the push body either skip the item with a reason or give a mention that can be stored:
serialisable as UTF-8 JSON and far below DynamoDB's 400 KB item limit. One bad item never raises."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.domain.models import Mention
from groundswell.domain.sources import Problem

# any code point, lone surrogates included (what a JSON "\\ud800" escape decodes to), short and very long
SHORT = st.text(st.characters(codec=None), max_size=50)
TEXT = st.one_of(SHORT, SHORT.map(lambda t: (t or "x") * (9000 // max(len(t), 1))))  # and very long
ANY = st.one_of(st.none(), st.integers(), st.booleans(), TEXT, st.lists(st.integers(), max_size=2))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def storable(mention: Mention | None, problems: list[Problem]) -> None:
    if mention is None:
        assert problems, "an item skipped without a reason"
        return
    body = mention.model_dump_json()
    body.encode("utf-8")  # strict: no lone surrogate survives
    assert len(body.encode()) < 64 * 1024
    assert len(mention.author) <= 200 and (mention.url is None or len(mention.url) <= 2048)


@SETTINGS
@given(text=TEXT, author=ANY, url=ANY, language=ANY, ident=TEXT)
def test_a_pushed_or_replayed_record_is_stored_or_skipped_never_raises(
    text: str, author: Any, url: Any, language: Any, ident: str
) -> None:
    from groundswell.domain.records import parse_record

    problems: list[Problem] = []
    record = {
        "id": ident,
        "created_at": "2026-11-20T10:00:00Z",
        "text": text,
        "author": author,
        "url": url,
        "language": language,
    }
    storable(parse_record(record, brand="acme-air", default_source="push", problems=problems), problems)


@SETTINGS
@given(text=TEXT, handle=TEXT, lang=ANY)
def test_a_bluesky_post_is_stored_or_skipped(text: str, handle: str, lang: Any) -> None:
    from groundswell.adapters.sources.bluesky import BlueskySearch

    problems: list[Problem] = []
    post = {
        "uri": "at://did:plc:x/app.bsky.feed.post/abc",
        "author": {"handle": handle},
        "record": {"text": text, "createdAt": "2026-11-20T10:00:00Z", "langs": [lang]},
    }
    storable(BlueskySearch._to_mention(post, "acme-air", problems), problems)


@SETTINGS
@given(content=TEXT, acct=TEXT, url=TEXT, spoiler=TEXT)
def test_a_mastodon_status_is_stored_or_skipped(content: str, acct: str, url: str, spoiler: str) -> None:
    from groundswell.adapters.sources.mastodon import MastodonTags

    problems: list[Problem] = []
    status = {
        "id": "1",
        "uri": "https://m.example/statuses/1",
        "content": content,
        "spoiler_text": spoiler,
        "url": url,
        "account": {"acct": acct},
        "created_at": "2026-11-20T10:00:00Z",
    }
    storable(MastodonTags._to_mention(status, "acme-air", problems, "https://m.example"), problems)


@SETTINGS
@given(title=TEXT, comment=TEXT, author=ANY, url=ANY)
def test_a_hacker_news_hit_is_stored_or_skipped(title: str, comment: str, author: Any, url: Any) -> None:
    from groundswell.adapters.sources.hackernews import _to_mention

    problems: list[Problem] = []
    hit = {
        "objectID": "1",
        "title": title,
        "comment_text": comment,
        "author": author,
        "url": url,
        "created_at_i": 1_795_000_000,
    }
    storable(_to_mention(hit, "acme-air", problems), problems)


@SETTINGS
@given(title=TEXT, body=TEXT, link=TEXT)
def test_an_rss_item_is_stored_or_skipped(title: str, body: str, link: str) -> None:
    from xml.sax.saxutils import escape

    from groundswell.adapters.sources.rss import parse_feed

    def xml_safe(text: str) -> str:  # XML 1.0 cannot carry every code point: a feed never holds those
        return "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd"))

    feed = (
        f"<rss><channel><item><title>{escape(xml_safe(title))}</title><link>{escape(xml_safe(link))}</link>"
        f"<description>{escape(xml_safe(body))}</description><guid>g1</guid>"
        "<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    problems: list[Problem] = []
    for mention in parse_feed(feed.encode(), "https://news.example/feed", "acme-air", problems):
        storable(mention, problems)


@SETTINGS
@given(body=st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_push_body_is_parsed_or_refused_with_a_reason(body: bytes) -> None:
    from functions.ingest_push.app import STATUS
    from groundswell.domain.push import PushRejected, parse_batch

    try:
        batch = parse_batch(body)
    except PushRejected as exc:
        assert 400 <= STATUS[exc.reason] < 500
    else:
        assert isinstance(batch.mentions, list)


def test_a_lone_surrogate_in_a_pushed_post_is_repaired_with_a_warning() -> None:
    from groundswell.domain.records import parse_record

    problems: list[Problem] = []
    record = json.loads(
        '{"id": "1", "created_at": "2026-11-20T10:00:00Z", "text": "Acme \\ud800 air", '
        '"author": "a\\udfff", "language": "' + "x" * 300 + '"}'
    )
    mention = parse_record(record, brand="acme-air", default_source="push", problems=problems)
    assert mention is not None and mention.text == "Acme \ufffd air" and mention.author == "a\ufffd"
    assert mention.language is None
    assert {p.action for p in problems} == {"repaired"} and len(problems) == 3
