"""Polling on moto: the cursor moves only after the mentions it covers are stored; failures leave it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from groundswell.adapters.dynamo import open_store
from groundswell.domain.listening import SourceFailing, poll_once
from groundswell.domain.models import Brand, Mention
from groundswell.domain.sentiment.complaints import ComplaintAwareVader
from groundswell.domain.sources import Cursor, FetchResult, Problem
from tests.conftest import make_brand

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


class FakeSource:
    kind = "hackernews"

    def __init__(self) -> None:
        self.fail = False
        self.seen_cursors: list[Cursor | None] = []

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        self.seen_cursors.append(cursor)
        if self.fail:
            raise TimeoutError("hn.algolia.com timed out")
        start = int((cursor or {}).get("n", 0))
        mentions = [
            Mention(
                source="hackernews",
                id=str(i),
                brand=brand.name,
                author=f"u{i}",
                text="Acme Air cancelled my flight and I have been on hold for 3 hours",
                created_at=datetime(2026, 11, 20, 14, i, tzinfo=UTC),
            )
            for i in range(start, start + 3)
        ]
        return FetchResult(
            mentions=mentions,
            cursor={"n": start + 2},  # overlap of one
            problems=[Problem("hackernews", "?", "hit without objectID")],
        )


def test_poll_scores_stores_and_advances_and_a_failure_keeps_the_cursor(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    resources, session = aws
    store = open_store(session.client("dynamodb"), resources.tables["Table"])
    source, brand = FakeSource(), make_brand()
    first = poll_once(brand, source, repository=store, scorer=ComplaintAwareVader(), now=NOW)
    assert (first.fetched, first.stored, first.skipped) == (3, 3, 1)
    source.fail = True
    capsys.readouterr()
    with pytest.raises(SourceFailing, match="1 in a row"):
        poll_once(brand, source, repository=store, scorer=ComplaintAwareVader(), now=NOW)
    assert store.cursors.load(brand.name, "hackernews").state == {"n": 2}
    assert '"Name":"SourceErrors"' in capsys.readouterr().out.replace(" ", "")  # the metric its alarm watches
    source.fail = False
    second = poll_once(brand, source, repository=store, scorer=ComplaintAwareVader(), now=NOW)
    assert (second.stored, second.duplicates) == (2, 1)
    assert source.seen_cursors == [None, {"n": 2}, {"n": 2}]
    buckets = store.mentions.buckets(brand.name, datetime(2026, 11, 20, 14, tzinfo=UTC), NOW)
    assert sum(b.total for b in buckets) == 5 == sum(b.negative for b in buckets)
    assert store.cursors.load(brand.name, "hackernews").failures == 0


def test_replay_files_are_read_from_s3(aws: Any) -> None:
    from groundswell.adapters.sources.replay import ReplayFeed

    _, session = aws
    s3 = session.client("s3")
    s3.create_bucket(Bucket="replays")
    lines = [
        b'{"id": "1", "created_at": "2026-11-20T14:00:00Z", "text": "Acme Air refund?", "author": "a"}',
        b'{"id": "2", "created_at": "2026-11-20T14:01:00Z", "text": "Acme Air ok", "author": "b"}',
    ]
    s3.put_object(Bucket="replays", Key="acme/2026-11-20.jsonl", Body=b"\n".join(lines) + b"\n")
    brand = make_brand(sources=[{"type": "replay", "uri": "s3://replays/acme/2026-11-20.jsonl"}])
    result = ReplayFeed().fetch(brand, None, NOW)
    assert [m.id for m in result.mentions] == ["1", "2"] and result.cursor and result.cursor["line"] == 2


def test_a_replaced_replay_file_loses_nothing_and_counts_nothing_twice(aws: Any, tmp_path: Any) -> None:
    """A log rotated under the poller: the new file repeats the old one's last lines and adds new ones."""
    from groundswell.adapters.sources.replay import ReplayFeed

    def lines(ids: range) -> bytes:
        return b"".join(
            b'{"id": "%d", "created_at": "2026-11-20T14:%02d:00Z", "text": "Acme Air", "author": "a"}\n' % (i, i)
            for i in ids
        )

    path = tmp_path / "acme.jsonl"
    path.write_bytes(lines(range(6)))
    resources, session = aws
    store = open_store(session.client("dynamodb"), resources.tables["Table"])
    brand = make_brand(sources=[{"type": "replay", "uri": str(path)}])
    poll_once(brand, ReplayFeed(), repository=store, scorer=ComplaintAwareVader(), now=NOW)
    path.write_bytes(lines(range(4, 9)))  # rotated: two lines again, three new
    report = poll_once(brand, ReplayFeed(), repository=store, scorer=ComplaintAwareVader(), now=NOW)
    assert (report.stored, report.duplicates) == (3, 2)
    buckets = store.mentions.buckets(brand.name, datetime(2026, 11, 20, 14, tzinfo=UTC), NOW)
    assert sum(b.total for b in buckets) == 9
