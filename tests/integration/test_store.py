"""The DynamoDB repository on moto (tables from template.yaml): exactly-once counts, TTL, cursors, brands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from groundswell.adapters.dynamo import Store, open_store
from groundswell.domain.models import Mention, Sentiment
from groundswell.domain.ports import CursorConflict
from tests.conftest import make_brand

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def mention(
    i: int, *, author: str | None = None, minutes: float = 0, sentiment: str = "negative", source: str = "replay"
) -> Mention:
    return Mention(
        source=source,
        id=str(i),
        brand="acme-air",
        text=f"post {i}",
        author=author or f"user{i}",
        created_at=T0 + timedelta(minutes=minutes),
        likes=2,
        reposts=1,
        replies=0,
        sentiment=Sentiment(sentiment),
        sentiment_score=-0.5,
    )


@pytest.fixture
def store(aws: Any) -> Store:
    resources, session = aws
    return open_store(session.client("dynamodb"), resources.tables["Table"], sleep=lambda s: None)


def test_counts_each_mention_once_however_often_it_is_stored(store: Store) -> None:
    batch = [
        mention(1),
        mention(2, author="user1"),
        mention(3, sentiment="positive", minutes=1),
        mention(4, minutes=6, sentiment="neutral"),
    ]
    first = store.mentions.store(batch)
    again = store.mentions.store([*batch, mention(1)])  # an overlapping poll and a duplicate in the batch
    assert (first.stored, first.duplicates) == (4, 0)
    assert (again.stored, again.duplicates) == (0, 5)
    buckets = store.mentions.buckets("acme-air", T0, T0 + timedelta(hours=1))
    assert [
        (b.start.minute, b.total, b.negative, b.positive, b.neutral, b.negative_authors, b.engagement) for b in buckets
    ] == [(0, 3, 2, 1, 0, 1, 9), (5, 1, 0, 0, 1, 0, 3)]


def test_a_concurrent_writer_is_detected_by_the_transaction_not_the_prefilter(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.mentions.store([mention(1)])
    # pretend the pre-filter read happened before the other poller wrote: the condition must still hold
    monkeypatch.setattr(store.mentions, "_drop_existing", lambda unique, report: list(unique.values()))
    report = store.mentions.store([mention(1), mention(2)])
    assert (report.stored, report.duplicates) == (1, 1)
    [bucket] = store.mentions.buckets("acme-air", T0, T0 + timedelta(minutes=5))
    assert bucket.total == 2 and bucket.negative_authors == 2


def test_a_cancelled_transaction_leaves_nothing_behind(store: Store, aws: Any) -> None:
    resources, session = aws
    db = session.client("dynamodb")
    table = resources.tables["Table"]
    store.mentions.store([mention(1)])
    items, _ = store.mentions._transaction_items([mention(2), mention(1)])
    with pytest.raises(db.exceptions.TransactionCanceledException):
        db.transact_write_items(TransactItems=items)
    assert (
        db.scan(TableName=table, FilterExpression="id = :two", ExpressionAttributeValues={":two": {"S": "2"}})["Items"]
        == []
    )
    [bucket] = store.mentions.buckets("acme-air", T0, T0 + timedelta(minutes=5))
    assert bucket.total == 1


def test_large_batches_are_split_into_transactions_of_at_most_100_actions(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    original = store.table.db.transact_write_items

    def spy(**kwargs: Any) -> Any:
        sizes.append(len(kwargs["TransactItems"]))
        return original(**kwargs)

    monkeypatch.setattr(store.table.db, "transact_write_items", spy)
    report = store.mentions.store([mention(i, minutes=i / 10) for i in range(450)])
    assert report.stored == 450 and max(sizes) <= 100 and len(sizes) >= 5
    assert sum(b.total for b in store.mentions.buckets("acme-air", T0, T0 + timedelta(hours=2))) == 450


def test_mentions_carry_a_ttl_and_read_back_whole(store: Store) -> None:
    original = mention(7, minutes=3).model_copy(update={"url": "https://x.example/7", "language": "en"})
    store.mentions.store([original])
    [back] = store.mentions.mentions("acme-air", T0, T0 + timedelta(hours=1))
    assert back == original
    raw = store.table.db.scan(TableName=store.table.name)["Items"]
    ttl = next(int(i["expires_at"]["N"]) for i in raw if i["pk"]["S"].startswith("MENTIONS#"))
    assert ttl == int((original.created_at + timedelta(days=30)).timestamp())


def test_a_mention_stored_by_another_version_is_left_out_of_reads(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.mentions.store([mention(1, minutes=1), mention(2, minutes=2)])
    raw = store.table.db.scan(TableName=store.table.name)["Items"]
    first = next(i for i in raw if i["pk"]["S"].startswith("MENTIONS#"))
    store.table.db.put_item(TableName=store.table.name, Item={**first, "m": {"S": '{"id": "1", "text": "no source"}'}})
    assert [m.id for m in store.mentions.mentions("acme-air", T0, T0 + timedelta(hours=1))] == ["2"]
    assert [(r.getMessage(), getattr(r, "count", 0)) for r in caplog.records if r.levelname == "ERROR"] == [
        ("stored mentions unreadable: left out", 1)
    ]


def test_cursor_moves_only_from_the_version_it_was_read_at(store: Store) -> None:
    cursor = store.cursors.load("acme-air", "hackernews")
    assert cursor.state is None and cursor.version == 0
    store.cursors.save("acme-air", "hackernews", {"created_at_i": 10}, cursor.version)
    with pytest.raises(CursorConflict):
        store.cursors.save("acme-air", "hackernews", {"created_at_i": 5}, cursor.version)
    assert store.cursors.record_failure("acme-air", "hackernews", "HttpError: HTTP 503") == 1
    assert store.cursors.record_failure("acme-air", "hackernews", "HttpError: HTTP 503") == 2
    after = store.cursors.load("acme-air", "hackernews")
    assert after.state == {"created_at_i": 10} and after.failures == 2 and "503" in (after.last_error or "")
    store.cursors.save("acme-air", "hackernews", {"created_at_i": 20}, after.version)
    assert store.cursors.load("acme-air", "hackernews").failures == 0


def test_brands_are_stored_listed_and_removed_with_batches_of_25(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = store.table.db.batch_write_item

    def spy(**kwargs: Any) -> Any:
        calls.append(len(next(iter(kwargs["RequestItems"].values()))))
        return original(**kwargs)

    monkeypatch.setattr(store.table.db, "batch_write_item", spy)
    brands = [make_brand(name=f"brand-{i:02d}") for i in range(30)]
    store.brands.put_many(brands)
    assert calls == [25, 5]  # moto would accept 26; real DynamoDB would not
    assert [b.name for b in store.brands.list()] == [b.name for b in brands]
    assert store.brands.get("brand-07") == brands[7]
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert store.brands.remove("brand-07", now) and not store.brands.remove("brand-07", now)
    assert not store.brands.remove("no-such-brand", now)
    assert store.brands.get("brand-07") is None and "brand-07" not in [b.name for b in store.brands.list()]
    [tombstone] = [b for b in store.brands.list(include_removed=True) if b.name == "brand-07"]
    assert not tombstone.enabled  # the detector sees it as paused
    store.brands.put(brands[7])  # added again
    assert store.brands.get("brand-07") == brands[7]


def test_push_nonces_are_single_use(store: Store) -> None:
    assert store.claims.claim_nonce("abc", 600) is True
    assert store.claims.claim_nonce("abc", 600) is False


def test_the_detector_lease_lets_one_holder_at_a_time_and_frees_itself(store: Store) -> None:
    now = T0
    assert store.detector.take_lease("detector", "a", 150, now)
    assert not store.detector.take_lease("detector", "b", 150, now)  # a second cycle while the first runs
    assert store.detector.take_lease("detector", "a", 150, now)  # the holder again (a retry of the same invocation)
    store.detector.release_lease("detector", "b", now)  # not b's to release
    assert not store.detector.take_lease("detector", "b", 150, now)
    store.detector.release_lease("detector", "a", now)
    assert store.detector.take_lease("detector", "b", 150, now)
    now += timedelta(seconds=151)  # b crashed without releasing: its lease runs out
    assert store.detector.take_lease("detector", "c", 150, now)


def test_a_detection_cycle_that_finds_the_lease_held_skips(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from groundswell import runtime

    runtime.store().brands.put(make_brand())
    at = datetime(2026, 11, 20, tzinfo=UTC)
    assert runtime.store().detector.take_lease("detector", "someone-else", 150, at)
    assert runtime.detect(at)["skipped"] == 1
    assert '"Name":"DetectorCyclesSkipped"' in capsys.readouterr().out.replace(" ", "")  # what its alarm watches
    runtime.store().detector.release_lease("detector", "someone-else", at)
    assert "skipped" not in runtime.detect(datetime(2026, 11, 20, tzinfo=UTC))


class Flaky:
    """The DynamoDB client, but the next ``fail`` transactions are cancelled with ``reason`` on every item."""

    def __init__(self, client: Any, fail: int, reason: str = "ThrottlingError"):
        self._client, self.fail, self.reason = client, fail, reason

    def transact_write_items(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        if self.fail > 0:
            self.fail -= 1
            reasons = [{"Code": self.reason, "Message": "simulated"} for _ in kwargs["TransactItems"]]
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.parametrize("reason", ["ThrottlingError", "TransactionConflict"])
def test_a_throttled_or_conflicting_transaction_is_retried_never_read_as_already_done(
    store: Store, reason: str
) -> None:
    """Before, a cancelled transaction meant "already done" whatever its reasons: a throttled incident event
    was never notified, a throttled claim never sent, a throttled SMS budget read as "cap reached", a throttled
    release left the message held for ever."""
    flaky = Flaky(store.table.db, 0, reason)
    store.table.db = flaky  # type: ignore[assignment]
    at = datetime(2026, 11, 20, 14, tzinfo=UTC)
    flaky.fail = 1
    assert store.incidents.record("acme-air", "acme-air:1", "open", at, '{"id": "acme-air:1"}', False)
    assert [e.key for e in store.incidents.outbox()] and store.incidents.history("acme-air") == ['{"id": "acme-air:1"}']
    assert not store.incidents.record("acme-air", "acme-air:1", "open", at, "{}", False)  # stored before: False
    flaky.fail = 1
    assert store.deliveries.claim("acme-air:1", "open", "sms-1", payload="{}") == "claimed"
    assert store.deliveries.claim("acme-air:1", "open", "sms-1", payload="{}") == "sending"  # someone else's now
    flaky.fail = 1
    assert store.claims.take_sms_budget("sms-1", "2026-11-20", 1, per_recipient=5, per_day=10)
    assert not store.claims.take_sms_budget("sms-1", "2026-11-20", 5, per_recipient=5, per_day=10)  # the cap itself
    store.deliveries.claim("acme-air:1", "reminder", "sms-1", payload="{}", held_until=at)
    [(held_key, _)] = store.deliveries.due_held(at)
    flaky.fail = 1
    assert store.deliveries.release_held(held_key, "acme-air:1", "reminder", "sms-1")


def test_throttling_that_outlasts_the_retries_is_raised_for_lambda_to_retry(store: Store) -> None:
    from botocore.exceptions import ClientError

    store.table.db = Flaky(store.table.db, 100)  # type: ignore[assignment]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        store.incidents.record("acme-air", "acme-air:1", "open", datetime(2026, 11, 20, tzinfo=UTC), "{}", False)
    with pytest.raises(ClientError):
        store.claims.take_sms_budget("sms-1", "2026-11-20", 1, per_recipient=5, per_day=10)


@pytest.mark.parametrize("may_overlap", [True, False])
def test_a_post_whose_timestamp_changed_is_counted_once(store: Store, may_overlap: bool) -> None:
    """An RSS item's pubDate updated, a push re-sent with another created_at: the same source and id is the same
    post. Before, the key held the timestamp and the post was counted again."""
    first = store.mentions.store([mention(1, minutes=0), mention(2, minutes=1)], may_overlap=may_overlap)
    again = store.mentions.store([mention(1, minutes=7), mention(3, minutes=8)], may_overlap=may_overlap)
    assert (first.stored, again.stored, again.duplicates) == (2, 1, 1)
    assert sum(b.total for b in store.mentions.buckets("acme-air", T0, T0 + timedelta(hours=1))) == 3
    other_brand = mention(1, minutes=7).model_copy(update={"brand": "other-air"})
    assert store.mentions.store([other_brand]).stored == 1  # one post may mention two brands: once for each


def test_a_full_transaction_of_new_posts_fits_dynamodbs_limit(store: Store) -> None:
    posts = [mention(i, minutes=i * 5) for i in range(120)]  # one bucket each: the worst case per action
    report = store.mentions.store(posts, may_overlap=False)
    assert report.stored == 120


def test_a_viral_bucket_keeps_its_counts_and_caps_its_author_set_below_the_item_limit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not enforce DynamoDB's 400 KB item limit; real DynamoDB refuses an update past it, which would
    fail every later write to that bucket and stop the source during the burst itself."""
    import groundswell.adapters.dynamo.mentions as module

    monkeypatch.setattr(module, "AUTHORS_PER_BUCKET", 60)
    posts = [mention(i, minutes=i * 0.01) for i in range(200)]  # one bucket, 200 distinct negative authors
    assert store.mentions.store(posts, may_overlap=False).stored == 200
    [bucket] = store.mentions.buckets("acme-air", T0, T0 + timedelta(minutes=5))
    assert bucket.total == bucket.negative == 200  # the counts are exact
    assert 60 <= bucket.negative_authors < 60 + 50  # the set stops at the cap (plus at most one chunk's authors)
