"""The detector function on moto: state saved between cycles, incidents opened once, events idempotent."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from groundswell.domain.models import Mention, Sentiment
from infra.lambda_runtime import LambdaContext
from infra.scenario import BrandScenario, demo_start, generate
from tests.conftest import make_brand

pytestmark = pytest.mark.integration


def store_scenario(scenario: BrandScenario, hours: int) -> None:
    from groundswell.domain.sentiment.complaints import ComplaintAwareVader
    from groundswell.domain.text import parse_timestamp
    from groundswell.runtime import store

    scorer = ComplaintAwareVader()
    records = generate(scenario, demo_start(), hours)
    mentions = []
    for record in records:
        label, score = scorer.score_one(str(record["text"]))
        mentions.append(
            Mention(
                source="replay",
                id=str(record["id"]),
                brand=scenario.name,
                text=str(record["text"]),
                author=str(record["author"]),
                created_at=parse_timestamp(record["created_at"]),
                sentiment=Sentiment(label),
                sentiment_score=score,
            )
        )
    store().mentions.store(mentions, may_overlap=False)


def test_cycles_open_one_incident_for_a_swell_and_none_for_a_flood(aws: Any) -> None:
    from functions.detect_spikes import app as detect
    from groundswell.runtime import store

    for name in ("acme-air", "brightbank"):
        store().brands.put(make_brand(name=name, sources=[{"type": "hackernews"}]))
    store_scenario(BrandScenario("acme-air", "Acme Air", per_bucket=6.0, crisis_start_hour=40, crisis_hours=6), 46)
    store_scenario(BrandScenario("brightbank", "BrightBank", per_bucket=1.5, flood_hour=38), 46)
    start = demo_start()
    # the first cycle learns from the first 36 hours, then one cycle every 5 minutes
    first = detect.handler({"now": (start + timedelta(hours=36)).isoformat()}, LambdaContext())
    assert first["brands"] == 2 and first["buckets"] == 2 * (36 * 12 - 1)  # from the first stored bucket on
    for step in range(6, 10 * 12 + 1, 6):  # a cycle every 30 minutes: each catches up 6 buckets
        detect.handler({"now": (start + timedelta(hours=36, minutes=5 * step)).isoformat()}, LambdaContext())
    acme = [json.loads(i) for i in store().incidents.history("acme-air")]
    assert len(acme) == 1 and acme[0]["id"].startswith("acme-air:")
    # what the swell is about (the scenario's crisis posts are about a booking-system outage)
    assert "outage" in acme[0]["drivers"][:2]
    assert acme[0]["sources"][0][0] == "replay"
    assert start + timedelta(hours=40) <= _time(acme[0]["opened_at"]) <= start + timedelta(hours=41)
    assert 1.6 <= acme[0]["baseline_days"] <= 1.75  # judged against the ~40 hours of history before it
    assert store().incidents.history("brightbank") == []  # one person flooding is not a crisis
    # the same cycle again (a Lambda retry) publishes nothing new
    again = detect.handler({"now": (start + timedelta(hours=46)).isoformat()}, LambdaContext())
    assert again["transitions"] == 0 and again["buckets"] == 0


def _time(value: str) -> Any:
    from groundswell.domain.text import parse_timestamp

    return parse_timestamp(value)


def test_a_catch_up_cycle_keeps_the_incidents_later_buckets_when_adding_drivers(aws: Any) -> None:
    """One cycle judges two hours of buckets; the incident opens in the middle and keeps growing: the state
    saved must be the incident after the last bucket (with the drivers added), not the snapshot at opening."""
    from functions.detect_spikes import app as detect
    from groundswell.domain.detection.cycle import STATE
    from groundswell.runtime import store

    store().brands.put(make_brand(name="acme-air", sources=[{"type": "hackernews"}]))
    store_scenario(BrandScenario("acme-air", "Acme Air", per_bucket=6.0, crisis_start_hour=40, crisis_hours=6), 43)
    start = demo_start()
    detect.handler({"now": (start + timedelta(hours=39)).isoformat()}, LambdaContext())
    detect.handler({"now": (start + timedelta(hours=42, minutes=30)).isoformat()}, LambdaContext())
    state = STATE.validate_json(store().detector.states(["acme-air"])["acme-air"] or b"")
    published = json.loads(store().incidents.history("acme-air")[0])  # as of its last transition (17:25 here)
    assert state.incident is not None and list(state.incident.drivers) == published["drivers"] != []
    assert state.last_bucket is not None and _time(published["peak_at"]) < state.last_bucket
    # the buckets after the last transition were kept: the current rate is the last bucket's, not 17:25's
    assert state.incident.current_observed != published["current_observed"]


def test_an_unreadable_state_or_brand_config_stops_neither_the_cycle_nor_leads_to_a_second_alert(
    aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A state that does not decompress, one that no longer validates (written by another version), and a
    brand config edited by hand: each is logged, the others go on, and the open incident is not opened again."""
    import zlib

    from functions.detect_spikes import app as detect
    from groundswell.domain.detection.cycle import STATE
    from groundswell.runtime import dispatch, store

    resources, session = aws
    for name in ("acme-air", "brightbank"):
        store().brands.put(make_brand(name=name, sources=[{"type": "hackernews"}]))
    store_scenario(BrandScenario("acme-air", "Acme Air", per_bucket=6.0, crisis_start_hour=40, crisis_hours=6), 46)
    store_scenario(BrandScenario("brightbank", "BrightBank", per_bucket=1.5, flood_hour=38), 46)
    start = demo_start()
    detect.handler({"now": (start + timedelta(hours=36)).isoformat()}, LambdaContext())
    for step in range(6, 6 * 12 + 1, 6):  # to hour 42: acme-air's incident is open
        detect.handler({"now": (start + timedelta(hours=36, minutes=5 * step)).isoformat()}, LambdaContext())
    opened = [json.loads(i) for i in store().incidents.history("acme-air")]
    assert len(opened) == 1 and opened[0]["resolved_at"] is None
    table, dynamodb = resources.tables["Table"], session.client("dynamodb")
    for brand, state in (("acme-air", b"not zlib"), ("brightbank", zlib.compress(b'{"detector": 42}'))):
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": f"BRAND#{brand}"}, "sk": {"S": "DETECTOR"}, "state": {"B": state}}
        )
    dynamodb.put_item(
        TableName=table,
        Item={"pk": {"S": "BRANDS"}, "sk": {"S": "BRAND#hand-edited"}, "config": {"S": '{"name": "hand-edited"}'}},
    )
    for step in range(6 * 12 + 6, 10 * 12 + 1, 6):  # hours 42 to 46, through the rest of the swell
        assert detect.handler({"now": (start + timedelta(hours=36, minutes=5 * step)).isoformat()}, LambdaContext())
    assert dispatch(start + timedelta(hours=46)) == 2  # the dispatcher goes on too: one poll per valid brand
    logged = {
        (r.getMessage().split(":")[0], getattr(r, "brand", ""), getattr(r, "problem", ""))
        for r in caplog.records
        if r.levelname == "ERROR"
    }
    assert logged == {
        ("detector state unreadable", "acme-air", "not zlib data"),
        ("detector state unreadable", "brightbank", "Input should be an object"),
        ("brand config is invalid", "hand-edited", "Field required"),
    }
    after = [json.loads(i) for i in store().incidents.history("acme-air")]
    assert [i["id"] for i in after] == [opened[0]["id"]]  # the same incident: no second opening, no second alert
    events = [
        item["sk"]["S"].split("#")
        for item in dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :event)",
            ExpressionAttributeValues={":pk": {"S": "BRAND#acme-air"}, ":event": {"S": "EVENT#"}},
        )["Items"]
    ]
    assert [kind for _, _, kind, _ in events].count("open") == 1  # and no all-clear on the calm hours before it
    assert all(_time(bucket) >= _time(opened[0]["opened_at"]) for _, _, _, bucket in events)
    assert store().incidents.history("brightbank") == []
    states = store().detector.states(["acme-air", "brightbank"])
    for raw in states.values():  # readable again, and judged as usual from now on
        assert STATE.validate_json(raw or b"").judge_from is None


@pytest.mark.parametrize("how", ["disabled", "every source silent", "removed and added again"])
def test_a_paused_brand_is_marked_once_and_skips_its_paused_span_when_back(aws: Any, how: str) -> None:
    """Paused by its owner (``enabled: false``) or unobserved (the dispatcher found every source silent)."""
    from functions.detect_spikes import app as detect
    from groundswell.domain.detection.cycle import STATE
    from groundswell.runtime import store

    brand = make_brand(name="acme-air", sources=[{"type": "hackernews"}])
    store().brands.put(brand)
    store_scenario(BrandScenario("acme-air", "Acme Air", per_bucket=6.0), 30)
    start = demo_start()

    def state_now() -> Any:
        return STATE.validate_json(store().detector.states(["acme-air"])["acme-air"] or b"")

    def pause(paused: bool) -> None:
        if how == "disabled":
            store().brands.put(brand.model_copy(update={"enabled": not paused}))
        elif how == "removed and added again":
            if paused:
                assert store().brands.remove("acme-air", start + timedelta(hours=30, minutes=30))
            else:
                store().brands.put(brand)
        else:
            store().detector.set_unobserved({"acme-air"} if paused else set())

    detect.handler({"now": (start + timedelta(hours=30)).isoformat()}, LambdaContext())
    pause(True)
    assert detect.handler({"now": (start + timedelta(hours=31)).isoformat()}, LambdaContext())["brands"] == 0
    assert state_now().paused_at == start + timedelta(hours=30, minutes=55)  # marked at the first paused cycle
    detect.handler({"now": (start + timedelta(hours=40)).isoformat()}, LambdaContext())
    assert state_now().paused_at == start + timedelta(hours=30, minutes=55)  # once
    pause(False)
    again = detect.handler({"now": (start + timedelta(hours=50)).isoformat()}, LambdaContext())
    assert again["buckets"] == 1  # only the newest bucket: the paused span is not learned as calm
    assert state_now().paused_at is None
