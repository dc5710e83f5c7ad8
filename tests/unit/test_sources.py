"""Sources on recorded responses: normalisation, dedupe, cursors, and bad items skipped with a reason."""

from __future__ import annotations

import contextlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from groundswell.adapters.http import HttpClient, HttpError, Response
from groundswell.adapters.rate_limits import RateLimiter
from groundswell.adapters.sources.bluesky import BlueskyCredentials, BlueskySearch, BlueskySession
from groundswell.adapters.sources.hackernews import HackerNewsSearch
from groundswell.adapters.sources.mastodon import MastodonTags
from groundswell.adapters.sources.replay import ReplayFeed
from groundswell.adapters.sources.rss import RssFeeds
from tests.conftest import fixture_bytes, make_brand, recorded

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


class Router:
    """A transport answering by URL substring; records every request."""

    def __init__(self, routes: dict[str, Any]):
        self.routes = routes
        self.requests: list[Any] = []

    def __call__(self, request: Any, timeout: float) -> Response:
        self.requests.append(request)
        for fragment, answer in self.routes.items():
            if fragment in request.full_url:
                answer = answer(request) if callable(answer) else answer
                if isinstance(answer, Response):
                    return answer
                body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                return Response(200, {}, body)
        return Response(404, {}, b"{}")


def http(router: Router, name: str = "test") -> HttpClient:
    return HttpClient(
        name=name, transport=router, sleep=lambda s: None, rng=random.Random(0), limiter=RateLimiter(1000, 1000)
    )


# ----------------------------------------------------------------- Bluesky


def test_bluesky_search_logs_in_once_and_normalises_posts() -> None:
    router = Router(
        {
            "createSession": json.loads(fixture_bytes("recorded/bluesky_create_session_CONSTRUCTED.json")),
            "searchPosts": recorded("bluesky/searchPosts_response_CONSTRUCTED.json"),
        }
    )
    client = http(router)
    session = BlueskySession(client, lambda: BlueskyCredentials("me.bsky.social", "app-pass"), "https://pds.test")
    brand = make_brand(terms={"keywords": ["motorist"]}, sources=[{"type": "bluesky", "lang": "en"}])
    result = BlueskySearch(client, session).fetch(brand, None, NOW)
    [mention] = result.mentions
    assert mention.source == "bluesky"
    assert mention.id == "at://did:plc:qlekkifqfvr7wyisf22h55tz/app.bsky.feed.post/3mbgzoqre6n2z"
    assert mention.author == "bernews.bsky.social"
    assert mention.url == "https://bsky.app/profile/bernews.bsky.social/post/3mbgzoqre6n2z"
    assert mention.created_at == datetime(2026, 1, 2, 13, 44, 43, 532000, tzinfo=UTC)
    assert mention.text.startswith("BPS: 'It is believed a female motorist")
    search = [r for r in router.requests if "searchPosts" in r.full_url]
    assert search[0].get_header("Authorization") == "Bearer access-token-1"
    assert "sort=latest" in search[0].full_url and "lang=en" in search[0].full_url
    assert result.cursor and result.cursor["since"] < mention.created_at.isoformat()
    # the password never appears in a repr that could reach a log
    assert "app-pass" not in repr(BlueskyCredentials("me", "app-pass"))


def test_bluesky_renews_an_expired_session() -> None:
    calls = {"search": 0}

    def search(request: Any) -> Any:
        calls["search"] += 1
        if request.get_header("Authorization") == "Bearer access-token-1":
            return Response(400, {}, b'{"error": "ExpiredToken"}')
        return {"posts": []}

    router = Router(
        {
            "createSession": {"accessJwt": "access-token-1", "refreshJwt": "refresh-token-1"},
            "refreshSession": {"accessJwt": "access-token-2", "refreshJwt": "refresh-token-2"},
            "searchPosts": search,
        }
    )
    client = http(router)
    session = BlueskySession(client, lambda: BlueskyCredentials("me", "pw"), "https://pds.test")
    BlueskySearch(client, session).fetch(make_brand(sources=[{"type": "bluesky"}]), None, NOW)
    assert calls["search"] == 2
    assert any("refreshSession" in r.full_url for r in router.requests)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bluesky_polls(
    login: Any, *, minutes: int = 60, brands: int = 3, search: Any = None, creds: Any = None
) -> tuple[Router, Clock, list[Exception]]:
    """Polls ``brands`` brands every minute for ``minutes`` through one session; ``login`` answers
    createSession. Returns the requests, the clock and the errors the polls raised."""
    router = Router(
        {
            "createSession": login,
            "refreshSession": {"accessJwt": "a2", "refreshJwt": "r2"},
            "searchPosts": search or {"posts": []},
        }
    )
    clock = Clock()
    client = http(router)
    session = BlueskySession(client, creds or (lambda: BlueskyCredentials("me", "pw")), "https://pds.test", clock=clock)
    source = BlueskySearch(client, session)
    errors: list[Exception] = []
    for _ in range(minutes):
        for i in range(brands):
            try:
                source.fetch(make_brand(name=f"brand-{i}", sources=[{"type": "bluesky"}]), None, NOW)
            except Exception as exc:
                errors.append(exc)
        clock.now += 60
    return router, clock, errors


def logins(router: Router) -> int:
    return sum("createSession" in r.full_url for r in router.requests)


def test_a_revoked_app_password_is_sent_once_until_the_secret_changes(capsys: pytest.CaptureFixture[str]) -> None:
    from groundswell.adapters.sources.bluesky import LoginRefused

    password = ["revoked"]

    def login(request: Any) -> Any:
        if json.loads(request.data)["password"] == "revoked":
            return Response(401, {}, b'{"error": "AuthenticationRequired", "message": "Invalid password"}')
        return {"accessJwt": "a1", "refreshJwt": "r1"}

    router, _, errors = bluesky_polls(login, minutes=20, creds=lambda: BlueskyCredentials("me", password[0]))
    assert logins(router) == 1  # 60 polls of three brands: one login (two per poll before)
    assert len(errors) == 60 and all(isinstance(e, LoginRefused) for e in errors)
    assert "put a new one in the secret" in str(errors[-1])
    assert '"Name":"BlueskyLoginRefused"' in capsys.readouterr().out.replace(" ", "")  # the metric its alarm watches


def test_a_new_password_in_the_secret_is_tried_at_the_next_recheck() -> None:
    password = ["revoked"]

    def login(request: Any) -> Any:
        if json.loads(request.data)["password"] == "revoked":
            password[0] = "fresh"  # the operator rotates the secret right after the refusal
            return Response(401, {}, b'{"error": "AuthenticationRequired"}')
        return {"accessJwt": "a1", "refreshJwt": "r1"}

    router, _, errors = bluesky_polls(login, minutes=10, creds=lambda: BlueskyCredentials("me", password[0]))
    assert logins(router) == 2
    assert len(errors) == 15  # refused for five minutes (three brands a minute), then polling again


@pytest.mark.parametrize(
    "failure",
    [
        Response(429, {"ratelimit-reset": "0"}, b'{"error": "RateLimitExceeded"}'),
        Response(429, {}, b'{"error": "RateLimitExceeded"}'),
        Response(503, {}, b""),
        Response(401, {}, b'{"error": "AuthenticationRequired"}'),
        Response(400, {}, b'{"error": "AccountTakedown"}'),
        TimeoutError("timed out"),
    ],
)
def test_logins_stay_within_blueskys_limits_under_any_failure(failure: Any) -> None:
    def login(request: Any) -> Any:
        if isinstance(failure, Exception):
            raise failure
        return failure

    router, _, _ = bluesky_polls(login, minutes=24 * 60, brands=3)
    assert 1 <= logins(router) <= 50  # a day of polls of three brands; Bluesky allows 300 a day


def test_a_session_refused_as_soon_as_made_logs_in_at_most_five_times_in_five_minutes() -> None:
    from groundswell.adapters.sources.bluesky import MAX_LOGINS_PER_DAY, MAX_LOGINS_PER_WINDOW

    stamps: list[float] = []
    clock_ref: list[Clock] = []

    def login(request: Any) -> Any:  # succeeds, but every token it hands out is refused at once
        stamps.append(clock_ref[0].now)
        return {"accessJwt": "a1", "refreshJwt": "r1"}

    refused = Response(401, {}, b'{"error": "InvalidToken"}')
    router = Router({"createSession": login, "refreshSession": refused, "searchPosts": refused})
    clock = Clock()
    clock_ref.append(clock)
    client = http(router)
    session = BlueskySession(client, lambda: BlueskyCredentials("me", "pw"), "https://pds.test", clock=clock)
    for _ in range(24 * 60 * 6):  # a day, every 10 s, as a crowd of brands and SQS redeliveries might
        with contextlib.suppress(HttpError):
            BlueskySearch(client, session).fetch(make_brand(sources=[{"type": "bluesky"}]), None, NOW)
        clock.now += 10
    assert all(sum(t <= s < t + 300 for s in stamps) <= MAX_LOGINS_PER_WINDOW for t in stamps)
    assert len(stamps) <= MAX_LOGINS_PER_DAY


def test_a_refresh_that_fails_for_a_passing_reason_keeps_the_refresh_token() -> None:
    refreshes: list[str] = []

    def refresh(request: Any) -> Any:
        refreshes.append(request.get_header("Authorization"))
        if len(refreshes) <= 4:  # the first poll's four attempts meet an outage
            return Response(502, {}, b"")
        return {"accessJwt": "a2", "refreshJwt": "r2"}

    def search(request: Any) -> Any:
        if request.get_header("Authorization") == "Bearer a1":
            return Response(400, {}, b'{"error": "ExpiredToken"}')
        return {"posts": []}

    router = Router(
        {"createSession": {"accessJwt": "a1", "refreshJwt": "r1"}, "refreshSession": refresh, "searchPosts": search}
    )
    client = http(router)
    session = BlueskySession(client, lambda: BlueskyCredentials("me", "pw"), "https://pds.test")
    brand = make_brand(sources=[{"type": "bluesky"}])
    with pytest.raises(HttpError, match="502"):
        BlueskySearch(client, session).fetch(brand, None, NOW)
    BlueskySearch(client, session).fetch(brand, None, NOW)  # the outage is over: the kept token refreshes
    assert logins(router) == 1
    assert set(refreshes) == {"Bearer r1"}


def test_a_bad_query_does_not_rotate_the_session() -> None:
    router = Router(
        {
            "createSession": {"accessJwt": "a1", "refreshJwt": "r1"},
            "searchPosts": Response(400, {}, b'{"error": "InvalidRequest", "message": "bad q"}'),
        }
    )
    client = http(router)
    session = BlueskySession(client, lambda: BlueskyCredentials("me", "pw"), "https://pds.test")
    for _ in range(3):
        with pytest.raises(HttpError, match="HTTP 400"):
            BlueskySearch(client, session).fetch(make_brand(sources=[{"type": "bluesky"}]), None, NOW)
    assert logins(router) == 1
    assert not any("refreshSession" in r.full_url for r in router.requests)


# ----------------------------------------------------------------- Mastodon


def test_mastodon_dedupes_the_same_post_seen_on_two_servers() -> None:
    statuses = recorded("mastodon/timelines_tag_response_CONSTRUCTED.json")
    router = Router(
        {"one.test/api/v1/timelines/tag/acmeair": statuses, "two.test/api/v1/timelines/tag/acmeair": statuses}
    )
    source = MastodonTags(lambda host: http(router, host))
    brand = make_brand(sources=[{"type": "mastodon", "servers": ["https://one.test", "https://two.test"]}])
    result = source.fetch(brand, None, NOW)
    assert len(result.mentions) == len(statuses)
    first = result.mentions[0]
    assert first.id == "https://mastodon.social/users/Gargron/statuses/103270115826048975"
    assert first.author == "Gargron" and first.language == "en"
    assert "<" not in first.text and first.text.startswith('"I lost my inheritance')
    assert (first.likes, first.reposts, first.replies) == (11, 6, 5)
    assert set(result.cursor["min_id"]) == {"https://one.test", "https://two.test"}


def test_mastodon_walks_forward_from_its_cursor_and_survives_one_failing_server() -> None:
    statuses = recorded("mastodon/timelines_tag_response_CONSTRUCTED.json")
    router = Router({"one.test": statuses, "two.test": Response(503, {}, b"")})
    source = MastodonTags(lambda host: http(router, host))
    brand = make_brand(sources=[{"type": "mastodon", "servers": ["https://one.test", "https://two.test"]}])
    result = source.fetch(brand, {"min_id": {"https://one.test": "100"}}, NOW)
    assert "min_id=100" in router.requests[0].full_url
    assert result.mentions and [p.item for p in result.problems] == ["https://two.test"]
    assert result.cursor["min_id"]["https://one.test"] == max((s["id"] for s in statuses), key=int)


# ----------------------------------------------------------------- Hacker News


def test_hackernews_polls_forward_and_skips_hits_missing_fields() -> None:
    router = Router({"search_by_date": json.loads(fixture_bytes("recorded/hn_search_by_date_CONSTRUCTED.json"))})
    result = HackerNewsSearch(http(router), api="https://hn.test/api/v1/search_by_date").fetch(
        make_brand(), {"created_at_i": 1763647000}, NOW
    )
    assert [m.id for m in result.mentions] == ["46021001", "46021050"]  # the giveaway is excluded
    comment = result.mentions[1]
    assert comment.text.startswith("I was stuck at the gate for 3 hours. Acme Air never told us anything & the")
    assert comment.url == "https://news.ycombinator.com/item?id=46021050"
    assert result.mentions[0].likes == 212 and result.mentions[0].replies == 143
    assert "created_at_i%3E1763647000" in router.requests[0].full_url
    assert result.cursor == {"created_at_i": 1763647800}
    assert {p.item for p in result.problems} == {"?"}  # once per query phrase


def test_hackernews_official_docs_example_without_timestamps_is_skipped_not_fatal() -> None:
    router = Router({"search_by_date": recorded("hn_algolia/search_docs_example_transcribed.json")})
    result = HackerNewsSearch(http(router)).fetch(make_brand(), None, NOW)
    assert result.mentions == []
    assert "timestamp" in result.problems[0].reason


# ----------------------------------------------------------------- RSS / Atom


def test_rss_keeps_only_items_about_the_brand_strips_html_and_skips_bad_dates() -> None:
    router = Router({"ledger.test": fixture_bytes("recorded/rss_publisher_CONSTRUCTED.xml")})
    brand = make_brand(sources=[{"type": "rss", "feeds": ["https://ledger.test/feed"]}])
    result = RssFeeds(http(router)).fetch(brand, None, NOW)
    [mention] = result.mentions
    assert mention.text == "Acme Air shares slide after outage\nShares of Acme Air fell 6%."
    assert mention.author == "Sam Writer"
    assert any(p.item == "broken-date" for p in result.problems)


def test_atom_feeds_and_conditional_get() -> None:
    feed = fixture_bytes("recorded/atom_feed_CONSTRUCTED.xml")
    router = Router({"news.test": Response(200, {"etag": '"v1"'}, feed)})
    brand = make_brand(sources=[{"type": "rss", "feeds": ["https://news.test/atom"]}])
    result = RssFeeds(http(router)).fetch(brand, None, NOW)
    [mention] = result.mentions
    assert mention.author == "Jane Reporter"
    assert "Hundreds of Acme Air travellers" in mention.text
    router.routes = {"news.test": Response(304, {}, b"")}
    again = RssFeeds(http(router)).fetch(brand, result.cursor, NOW)
    assert again.mentions == [] and router.requests[-1].get_header("If-none-match") == '"v1"'


def test_google_news_rss_titles_lose_the_outlet_suffix() -> None:
    router = Router({"gn.test": recorded("rss/google_news_search_trimmed_2026-09-25.xml")})
    brand = make_brand(terms={"keywords": ["emergency"]}, sources=[{"type": "rss", "feeds": ["https://gn.test/rss"]}])
    result = RssFeeds(http(router)).fetch(brand, None, NOW)
    # the description only repeats the title (and the outlet), so the title alone is the text
    assert result.mentions[0].text == "Fall Related Emergency Visits for Older Adults Continue to Climb"
    assert result.mentions[0].author == "countynewscenter.com"


def test_xml_entity_bombs_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<rss><channel>&b;</channel></rss>"
    )
    router = Router({"bad.test": bomb})
    brand = make_brand(sources=[{"type": "rss", "feeds": ["https://bad.test/rss"]}])
    with pytest.raises(RuntimeError, match="every rss endpoint failed"):
        RssFeeds(http(router)).fetch(brand, None, NOW)


# ----------------------------------------------------------------- replay


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_replay_reads_up_to_now_skips_bad_lines_and_resumes_from_its_cursor(tmp_path: Path) -> None:
    good = {
        "id": "1",
        "created_at": "2026-11-20T10:00:00Z",
        "text": "Acme Air lost my bag",
        "author": "a",
        "likes": 3,
        "sentiment": "negative",
    }
    lines = [
        json.dumps(good).encode(),
        b"{not json",
        json.dumps({"id": "2", "created_at": "2026-11-20T10:01:00Z", "author": "b"}).encode(),
        json.dumps({"id": "3", "created_at": "last tuesday", "text": "x", "author": "c"}).encode(),
        json.dumps({"id": "4", "created_at": "2026-11-20T10:02:00Z", "text": "caf\u00e9", "author": "d"}).encode()[:-3]
        + b'\xe9"}',
        json.dumps(
            {
                "id": "5",
                "created_at": "2026-11-20T10:03:00Z",
                "text": "<b>big</b> " * 6000,
                "author": "e",
                "url": "javascript:alert(1)",
                "sentiment": "furious",
            }
        ).encode(),
        json.dumps({"id": "6", "created_at": "2026-11-20T21:00:00Z", "text": "later", "author": "f"}).encode(),
    ]
    path = write_lines(tmp_path / "m.jsonl", lines)
    brand = make_brand(sources=[{"type": "replay", "uri": str(path)}])
    result = ReplayFeed().fetch(brand, None, NOW)
    assert [m.id for m in result.mentions] == ["1", "4", "5"]
    assert result.mentions[0].sentiment == "negative" and result.mentions[0].likes == 3
    assert result.mentions[1].author == "\ufffd"  # the invalid byte sat in the author field
    assert result.mentions[2].url is None and result.mentions[2].sentiment is None
    assert len(result.mentions[2].text) <= 2000
    reasons = " | ".join(f"{p.item}: {p.reason}" for p in result.problems)
    for expected in (
        "line 2: not valid JSON",
        "missing text",
        "not an ISO 8601",
        "invalid UTF-8",
        "truncated",
        "only http(s)",
        "sentiment 'furious' ignored",
    ):
        assert expected in reasons
    assert result.cursor and result.cursor["line"] == 6  # line 7 is in the future
    later = ReplayFeed().fetch(brand, result.cursor, datetime(2026, 11, 21, tzinfo=UTC))
    assert [m.id for m in later.mentions] == ["6"] and later.cursor and later.cursor["line"] == 7
    assert later.cursor["offset"] == path.stat().st_size


def line(ident: str, minute: int = 0) -> bytes:
    return json.dumps(
        {"id": ident, "created_at": f"2026-11-20T10:{minute:02d}:00Z", "text": "Acme Air", "author": "a"}
    ).encode()


def test_replay_stops_before_a_half_written_last_line_and_reads_it_once_complete(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    whole = line("3", 2)
    path.write_bytes(line("1") + b"\n" + line("2", 1) + b"\n" + whole[:20])
    brand = make_brand(sources=[{"type": "replay", "uri": str(path)}])
    first = ReplayFeed().fetch(brand, None, NOW)
    assert [m.id for m in first.mentions] == ["1", "2"] and first.problems == []
    with path.open("ab") as handle:
        handle.write(whole[20:] + b"\n")
    second = ReplayFeed().fetch(brand, first.cursor, NOW)
    assert [m.id for m in second.mentions] == ["3"] and second.cursor and second.cursor["line"] == 3


def test_replay_reads_an_unterminated_whole_last_line_but_keeps_its_cursor_before_it(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(line("1") + b"\n" + line("2", 1))  # a file saved without its last newline
    brand = make_brand(sources=[{"type": "replay", "uri": str(path)}])
    first = ReplayFeed().fetch(brand, None, NOW)
    assert [m.id for m in first.mentions] == ["1", "2"]
    assert first.cursor and first.cursor["line"] == 1 and first.cursor["pending"]
    with path.open("ab") as handle:
        handle.write(b"\n" + line("3", 2) + b"\n")
    second = ReplayFeed().fetch(brand, first.cursor, NOW)
    assert [m.id for m in second.mentions] == ["2", "3"]  # "2" again: the store recognises it
    assert second.may_overlap and second.cursor and second.cursor["line"] == 3


@pytest.mark.parametrize("change", ["truncated", "replaced", "rotated"])
def test_replay_notices_a_truncated_or_replaced_file_and_reads_the_new_one_from_its_start(
    tmp_path: Path, change: str
) -> None:
    path = tmp_path / "m.jsonl"
    write_lines(path, [line(str(i), i) for i in range(5)])
    brand = make_brand(sources=[{"type": "replay", "uri": str(path)}])
    first = ReplayFeed().fetch(brand, None, NOW)
    assert len(first.mentions) == 5
    new = {
        "truncated": [line("new-1", 10)],  # shorter than the cursor
        "replaced": [line(str(9 - i), i) for i in range(5)],  # same length, other lines
        "rotated": [line(str(i), i) for i in range(3, 5)] + [line(f"new-{i}", 10 + i) for i in range(4)],
    }[change]
    write_lines(path, new)
    second = ReplayFeed().fetch(brand, first.cursor, NOW)
    assert len(second.mentions) == len(new)  # from line 1; the store drops what it has already
    assert second.may_overlap
    assert second.cursor and second.cursor["line"] == len(new)


def test_a_cursor_written_before_the_check_is_trusted_and_upgraded(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "m.jsonl", [line(str(i), i) for i in range(3)])
    brand = make_brand(sources=[{"type": "replay", "uri": str(path)}])
    result = ReplayFeed().fetch(brand, {"line": 2}, NOW)
    assert [m.id for m in result.mentions] == ["2"]
    assert result.cursor and result.cursor["head"] and result.cursor["offset"] == path.stat().st_size


def test_hackernews_history_pages_back_through_each_phrase_and_past_the_hit_cap() -> None:
    page = json.loads(fixture_bytes("recorded/hn_search_by_date_CONSTRUCTED.json"))
    router = Router({"search_by_date": page})
    source = HackerNewsSearch(http(router), api="https://hn.test/api/v1/search_by_date")
    brand = make_brand()
    since, until = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    cursor, pages, found = None, 0, set()
    while True:
        result = source.history(brand, since, until, cursor)
        pages += 1
        found |= {m.id for m in result.mentions}
        if not result.truncated:
            break
        cursor = result.cursor
    assert pages == len(brand.terms.query_phrases()) and found == {"46021001", "46021050"}
    assert f"created_at_i%3E%3D{int(since.timestamp())}%2Ccreated_at_i%3C{int(until.timestamp())}" in (
        router.requests[0].full_url
    )
    capped = {**page, "nbPages": 50, "page": 9}  # the 10th page of a query with more than 1,000 hits
    source = HackerNewsSearch(http(Router({"search_by_date": capped})), api="https://hn.test/api/v1/search_by_date")
    result = source.history(brand, since, until, {"phrase": 0, "page": 9, "before": int(until.timestamp())})
    assert result.truncated and result.cursor == {"phrase": 0, "page": 0, "before": 1763647391 + 1}


def test_bluesky_history_asks_for_the_day_newest_first_and_follows_its_cursor() -> None:
    page = recorded("bluesky/searchPosts_response_CONSTRUCTED.json")
    router = Router(
        {
            "createSession": json.loads(fixture_bytes("recorded/bluesky_create_session_CONSTRUCTED.json")),
            "searchPosts": {**page, "cursor": "next-page"},
        }
    )
    client = http(router)
    session = BlueskySession(client, lambda: BlueskyCredentials("me.bsky.social", "app-pass"), "https://pds.test")
    brand = make_brand(terms={"keywords": ["motorist"]}, sources=[{"type": "bluesky"}])
    since, until = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    result = BlueskySearch(client, session).history(brand, since, until, {"cursor": "page-2"})
    [mention] = result.mentions
    assert mention.created_at.date().isoformat() == "2026-01-02"
    search = next(r.full_url for r in router.requests if "searchPosts" in r.full_url)
    for part in ("sort=latest", "since=2026-01-02T00%3A00%3A00%2B00%3A00", "until=2026-01-03", "cursor=page-2"):
        assert part in search, part
    assert not result.truncated  # a short page is the last, whatever cursor it carries
    outside = BlueskySearch(client, session).history(brand, until, until + timedelta(days=1), None)
    assert outside.mentions == []  # a post dated outside the day (client clocks) is left to its own day
    from groundswell.adapters.sources import bluesky

    original, bluesky.PAGE_SIZE = bluesky.PAGE_SIZE, 1  # a full page: more may follow
    try:
        full = BlueskySearch(client, session).history(brand, since, until, None)
    finally:
        bluesky.PAGE_SIZE = original
    assert full.truncated and full.cursor == {"cursor": "next-page"}


def test_mastodon_history_pages_back_from_the_days_end_server_by_server() -> None:
    statuses = recorded("mastodon/timelines_tag_response_CONSTRUCTED.json")  # one status, 2019-12-08 03:48 UTC
    router = Router({"one.test": statuses, "two.test": Response(503, {}, b"")})
    source = MastodonTags(lambda host: http(router, host))
    brand = make_brand(sources=[{"type": "mastodon", "servers": ["https://one.test", "https://two.test"]}])
    since, until = datetime(2019, 12, 8, tzinfo=UTC), datetime(2019, 12, 9, tzinfo=UTC)
    first = source.history(brand, since, until, None)
    assert f"max_id={int(until.timestamp() * 1000) << 16}" in router.requests[0].full_url  # a Snowflake at `until`
    assert [m.created_at.date().isoformat() for m in first.mentions] == ["2019-12-08"]
    assert first.truncated and first.cursor == {"server": 1}  # a short page: this server's day is read
    second = source.history(brand, since, until, first.cursor)
    assert not second.truncated and second.mentions == [] and "history unavailable" in second.problems[0].reason
    later = source.history(brand, until, until + timedelta(days=1), None)
    assert later.mentions == []  # outside the day asked for


def test_rss_history_is_what_each_feed_still_carries_for_the_day() -> None:
    router = Router(
        {"ledger.test": fixture_bytes("recorded/rss_publisher_CONSTRUCTED.xml"), "gone.test": Response(404, {}, b"")}
    )
    brand = make_brand(sources=[{"type": "rss", "feeds": ["https://ledger.test/feed", "https://gone.test/feed"]}])
    day = datetime(2026, 11, 20, tzinfo=UTC)
    first = RssFeeds(http(router)).history(brand, day, day + timedelta(days=1), None)
    [mention] = first.mentions  # the item about the brand, from that day
    assert mention.created_at.date() == day.date() and first.truncated and first.cursor == {"feed": 1}
    second = RssFeeds(http(router)).history(brand, day, day + timedelta(days=1), first.cursor)
    assert not second.truncated and "history unavailable" in second.problems[-1].reason
    assert RssFeeds(http(router)).history(brand, day - timedelta(days=1), day, None).mentions == []
