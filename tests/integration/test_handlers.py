"""The real handlers on moto: dispatcher -> SQS -> poller (partial batch failures), the push endpoint, the CLI."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from groundswell.domain.push import sign
from infra.brand_files import parse_brands
from infra.cli import main as cli
from infra.lambda_runtime import LambdaContext, sqs_event
from tests.conftest import make_brand

pytestmark = pytest.mark.integration
EVENTS = Path(__file__).resolve().parents[1] / "events"


def replay_file(tmp_path: Path, rows: int = 5) -> Path:
    path = tmp_path / "mentions.jsonl"
    lines = [
        json.dumps(
            {
                "id": f"m{i}",
                "created_at": f"2026-11-20T14:0{i}:00Z",
                "author": f"a{i}",
                "text": "Acme Air lost my bag and nobody answers",
            }
        )
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dispatcher_fans_out_and_poller_reports_only_the_bad_message(aws: Any, tmp_path: Path) -> None:
    from functions.dispatch_polls import app as dispatch
    from functions.poll_mentions import app as poller
    from groundswell.runtime import store

    resources, session = aws
    store().brands.put_many(
        parse_brands(
            [
                make_brand(
                    name="acme-air", sources=[{"type": "replay", "uri": str(replay_file(tmp_path))}]
                ).model_dump(),
                make_brand(name="quiet-co", enabled=False, sources=[{"type": "hackernews"}]).model_dump(),
            ]
        )
    )
    assert dispatch.handler({"now": "2026-11-20T15:00:00Z"}, LambdaContext()) == {"dispatched": 1}
    sqs = session.client("sqs")
    messages = sqs.receive_message(QueueUrl=resources.queues["PollQueue"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [
        {"brand": "acme-air", "source": "replay", "now": "2026-11-20T15:00:00Z"}
    ]
    broken = {**messages[0], "MessageId": "broken", "Body": '{"brand": "acme-air"}'}
    result = poller.handler(sqs_event([messages[0], broken]), LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert sum(b.total for b in store().mentions.buckets("acme-air", *_day())) == 5
    poller.handler(sqs_event([messages[0]]), LambdaContext())  # SQS delivers it again: nothing changes
    assert sum(b.total for b in store().mentions.buckets("acme-air", *_day())) == 5


def test_dispatcher_reports_sources_not_polled_successfully_for_too_long(aws: Any, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from groundswell.runtime import dispatch, store
    from groundswell.usecases.dispatch import poll_requests, report_silent_sources, unobserved

    brands = [
        make_brand(name="acme-air", sources=[{"type": "replay", "uri": str(replay_file(tmp_path))}]),
        make_brand(name="new-co", sources=[{"type": "hackernews"}]),
    ]
    store().brands.put_many(brands)
    polled = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    store().cursors.save("acme-air", "replay", {"line": 5}, 0, polled_at=polled)
    requests = poll_requests(brands, polled)
    assert report_silent_sources(requests, store().cursors, polled + timedelta(minutes=25), 30) == []
    silent = report_silent_sources(requests, store().cursors, polled + timedelta(minutes=31), 30)
    assert silent == [("acme-air", "replay")]  # after SILENT_SOURCE_MINUTES (30)
    # new-co was never polled: it has no last success to be late on (its failures raise SourceErrors)
    assert unobserved(requests, silent) == {"acme-air"}  # its only source: nothing observed, for the detector
    assert unobserved(requests + poll_requests([make_brand(sources=[{"type": "hackernews"}])], polled), silent) == set()
    dispatch(polled + timedelta(minutes=31))
    assert store().detector.unobserved() == {"acme-air"}
    store().cursors.save("acme-air", "replay", {"line": 6}, 1, polled_at=polled + timedelta(minutes=40))
    dispatch(polled + timedelta(minutes=45))
    assert store().detector.unobserved() == set()


def _day() -> tuple[Any, Any]:
    from datetime import UTC, datetime

    return datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)


def push_event(body: bytes, key: bytes | None, timestamp: int | None = None) -> dict[str, Any]:
    event = json.loads((EVENTS / "push_function_url.json").read_text())
    event["body"] = body.decode()
    event["headers"]["x-groundswell-signature"] = sign(key, body, timestamp or int(time.time())) if key else ""
    return event


def test_push_accepts_signed_batches_once_and_rejects_the_rest(aws: Any) -> None:
    from functions.ingest_push import app as push
    from groundswell.runtime import push_key, store

    store().brands.put(make_brand(sources=[{"type": "hackernews"}]))
    key = push_key()
    body = json.dumps(
        {
            "brand": "acme-air",
            "mentions": [
                {
                    "id": "v1",
                    "created_at": "2026-11-20T14:00:00Z",
                    "text": "Acme Air refund still missing",
                    "author": "x",
                },
                {"id": "v2", "created_at": "2026-11-20T14:01:00Z", "author": "y"},
                {
                    "id": "v3",
                    "created_at": "2026-11-20T14:02:00Z",
                    "text": "great crew",
                    "author": "z",
                    "sentiment": "positive",
                },
            ],
        }
    ).encode()
    ok = push.handler(push_event(body, key), LambdaContext())
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"]) == {
        "brand": "acme-air",
        "received": 3,
        "stored": 2,
        "duplicates": 0,
        "repaired": 0,
        "rejected": [{"item": "v2", "reason": "missing text"}],
    }
    replay = push.handler(push_event(body, key), LambdaContext())
    assert replay["statusCode"] in (200, 409)  # same second: same signature, so a replay
    if replay["statusCode"] == 200:
        assert json.loads(replay["body"])["stored"] == 0
    assert push.handler(push_event(body, b"wrong-key"), LambdaContext())["statusCode"] == 401
    assert push.handler(push_event(body, key, int(time.time()) - 3600), LambdaContext())["statusCode"] == 401
    assert push.handler(push_event(body, None), LambdaContext())["statusCode"] == 401
    unknown = json.dumps({"brand": "nobody", "mentions": []}).encode()
    reply = push.handler(push_event(unknown, key), LambdaContext())
    assert reply["statusCode"] == 404 and "unknown brand 'nobody'" in reply["body"]
    garbage = push.handler(push_event(b"[1,2", key), LambdaContext())
    assert garbage["statusCode"] == 400
    [bucket] = store().mentions.buckets("acme-air", *_day())
    assert (bucket.total, bucket.positive) == (2, 1)


def test_an_exact_replay_of_a_signed_request_is_rejected(aws: Any) -> None:
    from functions.ingest_push import app as push
    from groundswell.runtime import push_key, store

    store().brands.put(make_brand(sources=[{"type": "hackernews"}]))
    body = json.dumps({"brand": "acme-air", "mentions": []}).encode()
    event = push_event(body, push_key())
    assert push.handler(event, LambdaContext())["statusCode"] == 200
    assert push.handler(event, LambdaContext())["statusCode"] == 409


def test_brands_cli_round_trip_with_clear_errors(aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "brands.yaml"
    good.write_text(
        "brands:\n  - name: acme-air\n    terms: {keywords: [acme air]}\n    sources: [{type: hackernews}]\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Acme\nterms: {keywords: []}\nsources: [{type: rss, feeds: [not-a-url]}]\n")
    assert cli(["brands", "add", str(good)]) == 0
    assert cli(["brands", "list"]) == 0
    assert "acme-air" in capsys.readouterr().out
    assert cli(["brands", "add", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "name: String should match pattern" in err and "sources.0.rss.feeds.0" in err
    assert cli(["brands", "show", "nope"]) == 1
    from groundswell.runtime import store
    from tests.conftest import make_incident

    incident = make_incident()
    store().incidents.record("acme-air", incident.id, "open", incident.peak_at, incident.model_dump_json(), False)
    capsys.readouterr()
    assert cli(["brands", "remove", "acme-air"]) == 2  # its recipients would never hear the all clear
    assert "has an open incident (acme-air:20261120T1405)" in capsys.readouterr().err
    resolved = incident.model_copy(update={"resolved_at": incident.peak_at})
    store().incidents.record("acme-air", incident.id, "resolve", incident.peak_at, resolved.model_dump_json(), True)
    assert cli(["brands", "remove", "acme-air"]) == 0
    capsys.readouterr()
    assert cli(["brands", "list"]) == 0
    assert "acme-air" not in capsys.readouterr().out


def test_rotated_push_and_link_keys_take_effect_and_the_previous_one_has_a_grace_period(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the keys were read once per container (functools.cache) and a provider was built per call, so
    a rotation never took effect until a cold start, and then at once, breaking every link already sent."""
    import groundswell.adapters.secrets as secrets
    from groundswell.runtime import link_keys, push_keys

    _, session = aws
    manager = session.client("secretsmanager")
    push_id, link_id = os.environ["PUSH_SECRET_ID"], os.environ["ALERT_LINK_SECRET_ID"]
    old_push, old_link = push_keys()[0], link_keys()[0]
    clock = [time.monotonic()]
    monkeypatch.setattr(secrets.time, "monotonic", lambda: clock[0])
    manager.put_secret_value(SecretId=push_id, SecretString=json.dumps({"key": "n" * 40}))
    manager.put_secret_value(SecretId=link_id, SecretString=json.dumps({"key": "l" * 40}))
    assert push_keys() == (old_push,)  # cached: the new value is read within the max age, not per call
    clock[0] += secrets.SECRET_MAX_AGE_SECONDS + 1
    assert push_keys() == (b"n" * 40, old_push)  # the previous key stays valid during its grace period
    assert link_keys() == (b"l" * 40, old_link)
    later = datetime.now(UTC) + timedelta(hours=25)
    assert secrets.signing_keys(push_id, grace=timedelta(hours=24), now=later) == (b"n" * 40,)
    assert secrets.signing_keys(link_id, grace=timedelta(days=3), now=later) == (b"l" * 40, old_link)


def test_a_push_signed_with_the_previous_key_is_accepted_during_its_grace_only(aws: Any) -> None:
    from groundswell.domain.push import PushRejected
    from groundswell.runtime import accept_push, store

    store().brands.put(make_brand(sources=[{"type": "hackernews"}]))
    body = json.dumps({"brand": "acme-air", "mentions": []}).encode()
    now = time.time()
    new, old = b"n" * 40, b"o" * 40
    with patch("groundswell.runtime.push_keys", return_value=(new, old)):
        assert accept_push(body, sign(old, body, int(now)), now=now)["received"] == 0
    with patch("groundswell.runtime.push_keys", return_value=(new,)), pytest.raises(PushRejected, match="match"):
        accept_push(body, sign(old, body, int(now) + 1), now=now)


def test_a_push_retried_after_a_failed_store_is_accepted_and_stored_once(aws: Any) -> None:
    """Before, the replay guard was taken before storing: a sender's retry after a 5xx got 409 and the batch
    was lost."""
    from groundswell.domain.push import PushRejected
    from groundswell.runtime import accept_push, push_key, store

    store().brands.put(make_brand(sources=[{"type": "hackernews"}]))
    mention = {"id": "p1", "created_at": "2026-11-20T10:00:00Z", "text": "Acme Air lost my bag", "author": "a"}
    body = json.dumps({"brand": "acme-air", "mentions": [mention]}).encode()
    now = time.time()
    signature = sign(push_key(), body, int(now))
    with (
        patch.object(type(store().mentions), "store", side_effect=RuntimeError("throttled")),
        pytest.raises(RuntimeError),
    ):
        accept_push(body, signature, now=now)
    assert accept_push(body, signature, now=now)["stored"] == 1  # the sender's retry
    with pytest.raises(PushRejected, match="already accepted"):
        accept_push(body, signature, now=now)  # a replay of the accepted request
