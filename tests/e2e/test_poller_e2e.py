"""End to end: the real poller handler polls every source from a local HTTP server on 127.0.0.1 that serves
recorded responses (real sockets, real urllib, real retries), and the counts are read back from DynamoDB."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from infra.brand_files import parse_brands
from infra.lambda_runtime import LambdaContext, sqs_event
from tests.conftest import fixture_bytes, recorded

pytestmark = pytest.mark.e2e


class Recorded(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Any]] = {}
    hits: ClassVar[list[str]] = []
    throttle_once: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        path = self.path.split("?")[0]
        Recorded.hits.append(path)
        if path in Recorded.throttle_once:
            Recorded.throttle_once.discard(path)
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        if path.endswith("searchPosts") and self.headers.get("Authorization") != "Bearer access-token-1":
            self.send_response(401)
            self.end_headers()
            return
        body = Recorded.routes.get(path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/xml" if body.startswith(b"<") else "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_the_poller_handler_counts_every_recorded_mention_once(
    aws: Any, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.poll_mentions import app as poller
    from groundswell.runtime import store

    resources, session = aws
    hn = json.loads(fixture_bytes("recorded/hn_search_by_date_CONSTRUCTED.json"))
    for hit in hn["hits"][:3]:  # recorded in Nov 2026; the poll looks at the hour before "now"
        hit["created_at_i"] = int(datetime(2026, 11, 20, 16, 30, tzinfo=UTC).timestamp())
    mastodon = json.dumps(recorded("mastodon/timelines_tag_response_CONSTRUCTED.json")).encode()
    Recorded.routes = {
        "/api/v1/search_by_date": json.dumps(hn).encode(),
        "/a/api/v1/timelines/tag/acmeair": mastodon,
        "/b/api/v1/timelines/tag/acmeair": mastodon,
        "/feed.xml": fixture_bytes("recorded/rss_publisher_CONSTRUCTED.xml"),
        "/xrpc/com.atproto.server.createSession": fixture_bytes("recorded/bluesky_create_session_CONSTRUCTED.json"),
        "/xrpc/app.bsky.feed.searchPosts": json.dumps(
            recorded("bluesky/searchPosts_response_CONSTRUCTED.json")
        ).encode(),
    }
    Recorded.hits = []
    Recorded.throttle_once = {"/api/v1/search_by_date"}
    secret = session.client("secretsmanager").create_secret(
        Name="bsky", SecretString=json.dumps({"identifier": "me.bsky.social", "app_password": "xxxx-xxxx"})
    )
    monkeypatch.setenv("BLUESKY_SECRET_ID", secret["ARN"])
    monkeypatch.setenv("BLUESKY_SERVICE", server)
    monkeypatch.setenv("HACKERNEWS_API", f"{server}/api/v1/search_by_date")
    store().brands.put_many(
        parse_brands(
            {
                "name": "acme-air",
                "terms": {"keywords": ["acme air", "motorist"], "hashtags": ["acmeair"], "exclude": ["giveaway"]},
                "sources": [
                    {"type": "hackernews"},
                    {"type": "bluesky"},
                    {"type": "rss", "feeds": [f"{server}/feed.xml"]},
                    {"type": "mastodon", "servers": [f"{server}/a", f"{server}/b"]},
                ],
            }
        )
    )
    now = "2026-11-20T17:00:00Z"  # after the feed item (16:00), an hour after the HN hits
    messages = [
        {"MessageId": s, "ReceiptHandle": s, "Body": json.dumps({"brand": "acme-air", "source": s, "now": now})}
        for s in ("hackernews", "bluesky", "rss", "mastodon")
    ]
    assert poller.handler(sqs_event(messages), LambdaContext()) == {"batchItemFailures": []}
    assert poller.handler(sqs_event(messages), LambdaContext()) == {"batchItemFailures": []}  # polled again

    assert Recorded.hits.count("/api/v1/search_by_date") >= 2  # the 429 was retried
    assert Recorded.hits.count("/xrpc/com.atproto.server.createSession") == 1  # the session is reused
    # the recorded posts span 2019-2026: scan rather than query one day partition at a time
    items = session.client("dynamodb").scan(
        TableName=resources.tables["Table"],
        FilterExpression="begins_with(pk, :m)",
        ExpressionAttributeValues={":m": {"S": "MENTIONS#acme-air#"}},
    )["Items"]
    stored = [json.loads(item["m"]["S"]) for item in items]
    by_source: dict[str, int] = {}
    for mention in stored:
        by_source[mention["source"]] = by_source.get(mention["source"], 0) + 1
    # HN: story + comment (giveaway excluded); Bluesky: 1; RSS: 1 item about the brand; Mastodon: the
    # same statuses on two servers, once
    assert by_source == {"hackernews": 2, "bluesky": 1, "rss": 1, "mastodon": 1}
    buckets = store().mentions.buckets("acme-air", datetime(2019, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert sum(b.total for b in buckets) == 5
    assert all(mention["sentiment"] in ("negative", "neutral", "positive") for mention in stored)
