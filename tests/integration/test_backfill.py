"""Day-zero history on moto: adding a brand queues its backfill, the poller stores each brand-day exactly once
(resuming a day cut short), the brand's history is marked complete, and the detector learns it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from groundswell import runtime
from groundswell.domain.backfill import MARKER, BackfillRequest, plan, progress_line
from groundswell.domain.models import Brand, Mention, Sentiment, SourceType
from groundswell.domain.sources import FetchResult
from groundswell.usecases.backfill import backfill_day
from tests.conftest import make_brand

pytestmark = pytest.mark.integration
ADDED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


class History:
    """A history-capable source: two pages per day, 3 negative mentions an hour; ``fail_on`` raises once."""

    kind = "hackernews"

    def __init__(self, fail_on: int | None = None):
        self.calls, self.fail_on = 0, fail_on

    def history(self, brand: Brand, since: datetime, until: datetime, cursor: dict[str, Any] | None) -> FetchResult:
        self.calls += 1
        if self.fail_on == self.calls:
            self.fail_on = None
            raise TimeoutError("the Lambda ran out of time")
        half = since + (until - since) / 2
        start, end = (half, until) if cursor is None else (since, half)  # newest first
        hours = int((end - start).total_seconds() // 3600)
        mentions = [
            Mention(
                source="hackernews",
                id=f"{start:%Y%m%d%H}-{h}-{i}",
                brand=brand.name,
                text="acme air outage",
                author=f"u{i}",
                created_at=start + timedelta(hours=h, minutes=10 * i),
                sentiment=Sentiment.NEGATIVE,
                sentiment_score=-0.6,
            )
            for h in range(hours)
            for i in range(3)
        ]
        return FetchResult(mentions=mentions, cursor=None if cursor else {"page": 2}, truncated=cursor is None)


def _negatives(day_start: datetime) -> int:
    buckets = runtime.store().mentions.buckets("acme-air", day_start, day_start + timedelta(days=1))
    return sum(b.negative for b in buckets)


def test_adding_a_brand_queues_its_history_and_the_poller_backfills_it(aws: Any) -> None:
    from functions.poll_mentions.app import record_handler

    brand = make_brand(backfill_days=2)
    assert runtime.queue_backfills([brand], ADDED) == 3  # today so far and two days before
    assert runtime.queue_backfills([brand], ADDED) == 0  # nothing new: nothing queued
    sqs = aws[1].client("sqs")
    url = runtime.settings().backfill_queue_url
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    requests = [BackfillRequest.model_validate_json(b) for b in bodies]
    assert {(r.source, r.day.isoformat()) for r in requests} == {
        (SourceType.HACKERNEWS, "2026-11-20"),
        (SourceType.HACKERNEWS, "2026-11-19"),
        (SourceType.HACKERNEWS, "2026-11-18"),
    }
    assert all(r.until == ADDED for r in requests)
    runtime.store().brands.put(brand)
    source = History()
    original = runtime.source
    try:
        runtime.source = lambda kind: source  # type: ignore[assignment]
        for body in bodies:
            record_handler(type("Record", (), {"body": body})())  # type: ignore[arg-type]
    finally:
        runtime.source = original  # type: ignore[assignment]
    assert _negatives(datetime(2026, 11, 19, tzinfo=UTC)) == 3 * 24
    assert _negatives(datetime(2026, 11, 20, tzinfo=UTC)) == 3 * 14  # two pages of 7 whole hours before 15:00
    assert runtime.store().cursors.histories(["acme-air"]) == {"acme-air": datetime(2026, 11, 18, tzinfo=UTC)}
    line = progress_line(runtime.store().cursors.states_under("acme-air", MARKER))
    assert line == "backfill: hackernews 3/3 days, 186 mentions; history from 2026-11-18T00:00:00+00:00"


def test_a_day_cut_short_resumes_where_it_stopped_and_counts_nothing_twice(aws: Any) -> None:
    from groundswell.usecases.backfill import BackfillUnfinished

    store = runtime.store()
    brand = make_brand(backfill_days=0)
    store.brands.put(brand)
    requests = plan(brand, [SourceType.HACKERNEWS], ADDED, 0)
    [today] = requests
    source = History(fail_on=2)  # the first page is stored, the second attempt dies
    with pytest.raises(TimeoutError):
        backfill_day(today, brand, store, source, runtime.scorer(), plan=requests)
    assert _negatives(datetime(2026, 11, 20, tzinfo=UTC)) == 3 * 7  # the newest page: 7 whole hours from 07:30
    report = backfill_day(today, brand, store, source, runtime.scorer(), plan=requests)  # redelivered
    assert report.done and report.pages == 1  # resumed at the second page
    assert _negatives(datetime(2026, 11, 20, tzinfo=UTC)) == 3 * 14
    again = backfill_day(today, brand, store, source, runtime.scorer(), plan=requests)  # a late duplicate
    assert again.pages == 0 and _negatives(datetime(2026, 11, 20, tzinfo=UTC)) == 3 * 14
    with pytest.raises(BackfillUnfinished):  # out of time before a page: progress kept, the message comes back
        other = plan(brand, [SourceType.HACKERNEWS], ADDED + timedelta(days=1), 0)
        backfill_day(other[0], brand, store, History(), runtime.scorer(), plan=other, seconds_left=-1)
    assert json.loads(json.dumps(store.cursors.states_under("acme-air", MARKER)))  # readable progress


def test_the_detector_learns_a_completed_backfill_at_once(aws: Any) -> None:
    from groundswell.domain.detection.cycle import STATE

    store = runtime.store()
    brand = make_brand(backfill_days=1)
    store.brands.put(brand)
    requests = plan(brand, [SourceType.HACKERNEWS], ADDED, 1)
    for request in requests:
        backfill_day(request, brand, store, History(), runtime.scorer(), plan=requests)
    runtime.detect(ADDED + timedelta(minutes=10), owner="test")
    state = STATE.validate_json(store.detector.states(["acme-air"])["acme-air"] or b"")
    assert state.history_from == datetime(2026, 11, 19, tzinfo=UTC)
    assert state.detector.negative.baseline.observed >= 24 * 12  # a day and more learned in its first cycle


def test_a_brands_add_whose_queueing_failed_queues_the_history_when_run_again(
    aws: Any, tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    """The brand is saved, then its backfill queued: if the queue refuses (an AWS error), the brand is known
    but nothing was queued; running 'brands add' again must queue it (it used to decide by the stored brand,
    and queued nothing, ever)."""
    from botocore.exceptions import ClientError

    from groundswell.adapters.sqs import Queue
    from infra.cli import main

    path = tmp_path / "acme.json"
    path.write_text(make_brand(backfill_days=1).model_dump_json())
    real = Queue.send_all

    def refused(self: Any, bodies: Any) -> int:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "SendMessageBatch")

    monkeypatch.setattr(Queue, "send_all", refused)
    assert main(["brands", "add", str(path)]) == 2  # one line, no traceback
    assert "history could not be queued (" in (err := capsys.readouterr().err) and "try later" in err
    assert f"run 'groundswell brands add {path}' again" in err
    assert runtime.store().brands.get("acme-air") is not None  # saved, history not queued
    monkeypatch.setattr(Queue, "send_all", real)
    capsys.readouterr()
    assert main(["brands", "add", str(path)]) == 0
    assert "queued 2 brand-day(s)" in capsys.readouterr().out
    assert main(["brands", "add", str(path)]) == 0  # once queued, not again
    assert "queued" not in capsys.readouterr().out.replace("saved", "")
    assert main(["brands", "show", "acme-air"]) == 0
    assert "backfill: hackernews 0/2 days, 0 mentions; in progress" in capsys.readouterr().out
