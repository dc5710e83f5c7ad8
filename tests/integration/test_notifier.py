"""The notifier on moto: outbox -> messages once, under retries and concurrent invocations; links, SMS replies,
opt-out fallback (End User Messaging through botocore's Stubber), quiet-hour holds and the daily summary."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from groundswell import runtime
from groundswell.usecases.actions import Outcome
from tests.conftest import make_brand, make_incident

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
ONCALL, LEAD = "+14155550100", "lead@example.com"


def recipients(**extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": "On-call",
            "channel": "sms",
            "address": ONCALL,
            "role": "pr_oncall",
            "fallback_email": "oncall@example.com",
            **extra,
        },
        {"name": "Desk", "channel": "email", "address": "desk@example.com", "role": "pr_oncall"},
        {"name": "Lead", "channel": "email", "address": LEAD, "role": "comms_lead"},
    ]


def sms_sent() -> list[tuple[str, str]]:
    from moto.backends import get_backend

    return [(m[0], m[1]) for m in get_backend("sns")["123456789012"]["us-east-1"].sms_messages.values()]


def emails_sent() -> list[Any]:
    from moto.backends import get_backend

    return list(get_backend("ses")["123456789012"]["us-east-1"].sent_messages)


def publish(transition: str, **incident: Any) -> Any:
    view = make_incident(**{"opened_at": T0, **incident})
    bucket = view.resolved_at or view.peak_at
    runtime.store().incidents.record(
        view.brand, view.id, transition, bucket, view.model_dump_json(), transition == "resolve"
    )
    return view


@pytest.fixture
def notifier(aws: Any) -> Any:
    runtime.store().brands.put(make_brand(recipients=recipients()))
    return runtime.notifier()


def test_open_is_sent_once_to_the_first_rung_despite_redelivery(notifier: Any) -> None:
    publish("open")
    report = notifier.drain(T0)
    assert report.sent == 2 and [p for p, _ in sms_sent()] == [ONCALL]
    text = sms_sent()[0][1]
    assert text.startswith("Groundswell SEV3 Acme Air") and len(text) <= 160
    assert len(emails_sent()) == 1
    publish("open")  # the detector's event stored again is a no-op
    db, table = runtime.store().table.db, runtime.store().table.name
    db.delete_item(TableName=table, Key={"pk": {"S": "ALERTS"}, "sk": {"S": "acme-air:20261120T1405"}})
    # as if the invocation died after sending, before saving its state and clearing the outbox: claims hold
    db.put_item(
        TableName=table,
        Item={
            "pk": {"S": "OUTBOX"},
            "sk": {"S": "replayed"},
            "brand": {"S": "acme-air"},
            "kind": {"S": "open"},
            "incident": {"S": make_incident(opened_at=T0).model_dump_json()},
        },
    )
    again = notifier.drain(T0 + timedelta(minutes=1))
    assert again.sent == 0 and again.skipped == 2 and len(sms_sent()) == 1 and len(emails_sent()) == 1


def test_a_second_invocation_during_a_send_does_not_send_again(notifier: Any) -> None:
    """Invocation B runs while A is in the middle of its first send (between claim and delivery). In-process moto
    is not thread-safe, so the overlap is made deterministic instead of racing threads."""
    publish("open")
    real_send, nested = notifier.channels.sms.send, []

    def send_and_interleave(phone: str, text: str) -> str:
        if not nested:
            nested.append(notifier.drain(T0))  # B: same outbox, same claims
        return str(real_send(phone, text))

    object.__setattr__(notifier.channels.sms, "send", send_and_interleave)
    notifier.drain(T0)
    assert nested[0].skipped == 1  # B found A's SMS claimed and skipped it (and sent the email, once)
    assert len(sms_sent()) == 1 and len(emails_sent()) == 1


def test_ladder_reminders_ack_link_and_all_clear(notifier: Any) -> None:
    publish("open")
    notifier.drain(T0)
    notifier.tick(T0 + timedelta(minutes=31))  # unacknowledged: the comms lead hears
    assert len(emails_sent()) == 2
    notifier.tick(T0 + timedelta(minutes=66))  # reminders to those told an hour ago
    reminders = [t for _, t in sms_sent() if "REMINDER" in t]
    assert len(reminders) == 1
    token = re.search(r"/a/([0-9A-Za-z]{20})", sms_sent()[0][1]).group(1)  # type: ignore[union-attr]
    assert notifier.act(token, "ack", T0 + timedelta(minutes=70)).outcome is Outcome.DONE
    assert notifier.act(token[:-1] + ("x" if token[-1] != "x" else "y"), "ack", T0).outcome is Outcome.REFUSED
    before = len(sms_sent())
    notifier.tick(T0 + timedelta(minutes=200))
    assert len(sms_sent()) == before  # acknowledged: no more reminders
    publish("resolve", resolved_at=T0 + timedelta(hours=3))
    notifier.drain(T0 + timedelta(hours=4))
    assert "ALL CLEAR" in sms_sent()[-1][1]


def test_sms_reply_acknowledges_and_stop_falls_back_to_email(notifier: Any) -> None:
    publish("open")
    notifier.drain(T0)
    assert notifier.inbound_sms(ONCALL, "ack", T0 + timedelta(minutes=3)) == "ack 1 incident(s)"
    assert notifier.inbound_sms("+19995550000", "ACK", T0) == "unknown sender"
    assert notifier.inbound_sms(ONCALL, "STOP", T0) == "opted out"
    publish("escalate", severity=4, observed=300)
    emails = len(emails_sent())
    notifier.drain(T0 + timedelta(minutes=10))
    assert not any("WORSE" in t for _, t in sms_sent())  # no SMS after STOP
    assert len(emails_sent()) >= emails + 1  # the fallback email (and the desk's escalation)


def test_quiet_hours_hold_until_morning_then_send(aws: Any) -> None:
    night = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 23:00 in New York
    runtime.store().brands.put(make_brand(recipients=recipients(timezone="America/New_York", quiet_hours=[22, 7])))
    notifier = runtime.notifier()
    publish("open", opened_at=night, peak_at=night, id="acme-air:night")
    report = notifier.drain(night)
    assert report.held == 1 and sms_sent() == []
    notifier.tick(night + timedelta(hours=2))
    assert sms_sent() == []
    notifier.tick(datetime(2026, 11, 21, 12, 1, tzinfo=UTC))  # 07:01 local
    assert len(sms_sent()) == 1


def test_end_user_messaging_opt_out_falls_back_and_tells_the_operator(aws: Any) -> None:
    import boto3

    from groundswell.adapters.messaging import EndUserMessagingSms

    runtime.store().brands.put(make_brand(recipients=recipients()))
    notifier = runtime.notifier()
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error(
        "send_text_message",
        service_error_code="ConflictException",
        http_status_code=409,
        service_message="opted out",
        response_meta={},
        modeled_fields={"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT", "Message": "opted out"},
    )
    origin = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1"
    object.__setattr__(notifier.channels, "sms", EndUserMessagingSms(client, origin, max_price="0.05"))
    publish("open")
    with stub:
        notifier.drain(T0)
    stub.assert_no_pending_responses()
    assert any("oncall@example.com" in str(m.destinations) for m in emails_sent())
    assert runtime.store().claims.opted_out([make_brand(recipients=recipients()).recipients[0].key])


def test_end_user_messaging_request_carries_origin_price_and_ttl() -> None:
    import boto3

    from groundswell.adapters.messaging import EndUserMessagingSms

    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    stub = Stubber(client)
    origin = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1"
    stub.add_response(
        "send_text_message",
        {"MessageId": "m-1"},
        {
            "DestinationPhoneNumber": ONCALL,
            "OriginationIdentity": origin,
            "MessageBody": "hi",
            "MessageType": "TRANSACTIONAL",
            "TimeToLive": 3600,
            "MaxPrice": "0.05",
        },
    )
    with stub:
        assert EndUserMessagingSms(client, origin, max_price="0.05").send(ONCALL, "hi") == "m-1"


def test_daily_summary_once_per_day(aws: Any) -> None:
    ceo = {
        "name": "CEO",
        "channel": "sms",
        "address": "+14155550142",
        "role": "executive",
        "timezone": "America/New_York",
    }
    runtime.store().brands.put(make_brand(recipients=[ceo]))
    notifier = runtime.notifier()
    morning = datetime(2026, 11, 20, 13, 2, tzinfo=UTC)  # 08:02 EST
    assert notifier.tick(morning).summaries == 1
    assert notifier.tick(morning + timedelta(minutes=5)).summaries == 0
    text = sms_sent()[0][1]
    assert text.startswith("Groundswell daily Fri 20 Nov: Acme Air") and len(text) <= 160


def test_alert_actions_handler_confirms_then_acts(notifier: Any) -> None:
    from functions.alert_actions.app import handler
    from infra.lambda_runtime import LambdaContext

    publish("open")
    notifier.drain(datetime.now(UTC))  # the handler checks expiry against the real clock
    token = re.search(r"/a/([0-9A-Za-z]{20})", sms_sent()[0][1]).group(1)  # type: ignore[union-attr]
    page = handler({"rawPath": f"/a/{token}", "requestContext": {"http": {"method": "GET"}}}, LambdaContext())
    assert page["statusCode"] == 200 and "<form" in page["body"]
    assert "default-src 'none'" in page["headers"]["Content-Security-Policy"]
    done = handler(
        {"rawPath": f"/a/{token}", "requestContext": {"http": {"method": "POST"}}, "body": "action=snooze-2"},
        LambdaContext(),
    )
    assert done["statusCode"] == 200 and "snoozed for 2 h" in done["body"]
    bad = handler({"rawPath": "/a/<script>", "requestContext": {"http": {"method": "GET"}}}, LambdaContext())
    assert bad["statusCode"] == 403 and "<script>" not in bad["body"]
    inbound = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {"Message": json.dumps({"originationNumber": ONCALL, "messageBody": "ACK"})},
            }
        ]
    }
    assert handler(inbound, LambdaContext())["handled"] == ["ack 1 incident(s)"]


def test_a_deployment_without_sms_sends_sms_recipients_their_fallback_email(notifier: Any) -> None:
    from groundswell.adapters.messaging import NoSms

    object.__setattr__(notifier.channels, "sms", NoSms("SMS_ORIGINATION_IDENTITY is not set"))
    publish("open")
    notifier.drain(T0)
    assert sms_sent() == [] and any("oncall@example.com" in str(m.destinations) for m in emails_sent())


def _capture_posts(notifier: Any) -> list[tuple[str, dict[str, Any]]]:
    from groundswell.adapters.http import HttpClient, Response
    from groundswell.adapters.messaging import PagerDutyEvents, Webhook

    posted: list[tuple[str, dict[str, Any]]] = []

    def transport(request: Any, timeout: float) -> Response:
        posted.append((request.full_url, json.loads(request.data)))
        if "pagerduty" in request.full_url:
            return Response(202, {}, b'{"status": "success", "message": "Event processed", "dedup_key": "k"}')
        return Response(200, {}, b"ok")

    object.__setattr__(notifier.channels, "webhook", Webhook(HttpClient(name="test-webhook", transport=transport)))
    object.__setattr__(notifier.channels, "pagerduty", PagerDutyEvents(HttpClient(name="test-pd", transport=transport)))
    return posted


HOSTILE = "<!channel> <https://evil.example|click here> [login](https://evil.example) **now**"


def test_slack_gets_block_kit_with_an_acknowledge_button_and_escaped_post_text(aws: Any) -> None:
    hook = {
        "name": "War room",
        "channel": "webhook",
        "address": "https://hooks.slack.com/services/T0/B0/x",
        "role": "pr_oncall",
    }
    runtime.store().brands.put(make_brand(display_name="Acme Air", recipients=[hook]))
    notifier = runtime.notifier()
    posted = _capture_posts(notifier)
    publish("open", drivers=(HOSTILE,))
    notifier.drain(T0)
    [(url, payload)] = posted
    assert url == hook["address"]
    assert "CRISIS ALERT" in payload["text"] and "Acme Air" in payload["text"]  # the notification's fallback
    header, section, actions = payload["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    assert section["text"]["type"] == "mrkdwn" and len(section["text"]["text"]) <= 3000
    assert "<!channel>" not in json.dumps(payload) and "&lt;!channel&gt;" in section["text"]["text"]
    [button] = actions["elements"]
    assert button["type"] == "button" and "/a/" in button["url"] and len(button["text"]["text"]) <= 75


def test_teams_gets_an_adaptive_card_in_a_message_envelope(aws: Any) -> None:
    """Teams Workflows answer 202 to a bare {"text"} and then drop it."""
    teams = "https://prod-12.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x"
    hook = {"name": "Comms", "channel": "webhook", "role": "pr_oncall", "address": teams}
    runtime.store().brands.put(make_brand(recipients=[hook]))
    notifier = runtime.notifier()
    posted = _capture_posts(notifier)
    publish("open", drivers=("[x](https://e.example)",))
    notifier.drain(T0)
    [(_, payload)] = posted
    assert payload["type"] == "message" and "text" not in payload
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert all(block["type"] == "TextBlock" and block["wrap"] for block in card["body"])
    assert "\\[x\\]\\(https://e.example\\)" in card["body"][1]["text"]  # no clickable injected link
    [action] = card["actions"]
    assert action["type"] == "Action.OpenUrl" and "/a/" in action["url"]


def test_pagerduty_is_triggered_acknowledged_and_resolved_on_the_incident_id(aws: Any) -> None:
    pager = {"name": "PD", "channel": "pagerduty", "address": "R" * 32, "role": "pr_oncall"}
    runtime.store().brands.put(make_brand(recipients=[pager]))
    notifier = runtime.notifier()
    posted = _capture_posts(notifier)
    view = publish("open")
    notifier.drain(T0)
    [(url, trigger)] = posted
    assert url == "https://events.pagerduty.com/v2/enqueue"
    assert trigger["routing_key"] == "R" * 32 and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == view.id
    payload = trigger["payload"]
    assert {"summary", "source", "severity"} <= set(payload) and payload["severity"] == "error"  # SEV3
    assert len(payload["summary"]) <= 1024 and "Acme Air" in payload["summary"]
    assert trigger["links"][0]["href"] == trigger["client_url"] and "/a/" in trigger["client_url"]
    token = trigger["client_url"].rsplit("/", 1)[1]
    assert notifier.act(token, "ack", T0 + timedelta(minutes=1)).outcome is Outcome.DONE
    assert posted[-1][1] == {"routing_key": "R" * 32, "event_action": "acknowledge", "dedup_key": view.id}
    publish("resolve", resolved_at=T0 + timedelta(hours=2))
    notifier.drain(T0 + timedelta(hours=2))
    assert posted[-1][1] == {"routing_key": "R" * 32, "event_action": "resolve", "dedup_key": view.id}


def test_other_webhooks_get_text_and_the_incidents(aws: Any) -> None:
    hook = {"name": "Ops", "channel": "webhook", "address": "https://ops.example/hook", "role": "pr_oncall"}
    runtime.store().brands.put(make_brand(recipients=[hook]))
    notifier = runtime.notifier()
    posted = _capture_posts(notifier)
    view = publish("open")
    notifier.drain(T0)
    [(_, payload)] = posted
    assert "CRISIS ALERT" in payload["text"] and "/a/" in payload["text"]
    assert payload["incidents"] == [{"id": view.id, "severity": 3, "kind": "open"}]


def test_an_unreadable_outbox_event_or_alert_state_is_skipped_and_kept(
    notifier: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Written by another version, or edited by hand: logged, left where it is, and the rest is notified."""
    db, table = runtime.store().table.db, runtime.store().table.name
    db.put_item(
        TableName=table,
        Item={
            "pk": {"S": "OUTBOX"},
            "sk": {"S": "0-first#x:1#open"},
            "brand": {"S": "acme-air"},
            "kind": {"S": "open"},
            "incident": {"S": '{"id": "x:1"}'},
        },
    )
    db.put_item(
        TableName=table,
        Item={
            "pk": {"S": "ALERTS"},
            "sk": {"S": "y:1"},
            "state": {"S": "{}"},
            "version": {"N": "1"},
            "status": {"S": "open"},
        },
    )
    publish("open")
    assert notifier.drain(T0).sent == 2  # the readable event is notified
    assert [e.key for e in runtime.store().incidents.outbox()] == ["0-first#x:1#open"]  # the other one is kept
    notifier.tick(T0 + timedelta(minutes=31))  # the ladder goes on past the unreadable state
    assert len(emails_sent()) == 2
    assert notifier.inbound_sms(ONCALL, "ack", T0 + timedelta(minutes=32)) == "ack 1 incident(s)"
    logged = {(r.getMessage(), getattr(r, "key", "")) for r in caplog.records if r.levelname == "ERROR"}
    assert logged == {
        ("outbox event unreadable: skipped and kept", "0-first#x:1#open"),
        ("alert state unreadable: skipped and kept", "y:1"),
    }
    assert '"Name":"UnreadableItems"' in capsys.readouterr().out.replace(" ", "")  # the metric its alarm watches


def test_a_paused_brand_gets_no_reminders_or_summaries_until_enabled_again(aws: Any) -> None:
    ceo = {
        "name": "CEO",
        "channel": "sms",
        "address": "+14155550142",
        "role": "executive",
        "timezone": "America/New_York",
    }
    runtime.store().brands.put(make_brand(recipients=[*recipients(), ceo]))
    notifier = runtime.notifier()
    publish("open")
    notifier.drain(T0)
    told = len(sms_sent())
    runtime.store().brands.put(make_brand(recipients=[*recipients(), ceo], enabled=False))
    morning = datetime(2026, 11, 21, 13, 2, tzinfo=UTC)  # the CEO's 08:02, the next day
    assert notifier.tick(T0 + timedelta(minutes=66)).sent == 0  # no reminder
    assert notifier.tick(morning).summaries == 0
    assert len(sms_sent()) == told
    runtime.store().brands.put(make_brand(recipients=[*recipients(), ceo]))
    assert notifier.tick(morning + timedelta(minutes=5)).summaries == 1
    assert any("REMINDER" in text for _, text in sms_sent()[told:])  # the open incident's reminders resume


def test_an_unreadable_alert_state_of_a_live_incident_is_replaced_and_summaries_go_on(
    aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The incident's own alert state, and one stored incident, written by another version: the escalation is
    still sent (the delivery claims keep every message to one send) and the CEO still gets the summary."""
    from groundswell.domain.alerting.lifecycle import AlertState

    ceo = {
        "name": "CEO",
        "channel": "sms",
        "address": "+14155550142",
        "role": "executive",
        "timezone": "America/New_York",
    }
    runtime.store().brands.put(make_brand(recipients=[*recipients(), ceo]))
    notifier = runtime.notifier()
    view = publish("open")
    notifier.drain(T0)
    db, table = runtime.store().table.db, runtime.store().table.name
    db.update_item(
        TableName=table,
        Key={"pk": {"S": "ALERTS"}, "sk": {"S": view.id}},
        UpdateExpression="SET #s = :bad",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":bad": {"S": '{"version": 2}'}},
    )
    db.put_item(
        TableName=table,
        Item={
            "pk": {"S": "BRAND#acme-air"},
            "sk": {"S": "INCIDENT#acme-air:old"},
            "incident": {"S": '{"id": "acme-air:old"}'},
            "status": {"S": "resolved"},
        },
    )
    publish("escalate", severity=4, observed=300)
    assert notifier.drain(T0 + timedelta(minutes=10)).sent >= 1
    assert any("WORSE" in text for phone, text in sms_sent() if phone == ONCALL)  # told before: the escalation
    stored = runtime.store().deliveries.alert_state(view.id)
    assert stored is not None and AlertState.model_validate_json(stored.state).incident.severity == 4  # replaced
    assert notifier.tick(datetime(2026, 11, 21, 13, 2, tzinfo=UTC)).summaries == 1  # 08:02 in New York
    assert {r.getMessage() for r in caplog.records if r.levelname == "ERROR"} == {
        "alert state unreadable: skipped and kept",
        "incident unreadable: skipped and kept",
    }


@pytest.mark.parametrize("executive_of", ["a-air", "b-air"])
def test_a_person_on_two_brands_gets_one_summary_of_both_whatever_the_order(aws: Any, executive_of: str) -> None:
    """The executive of one brand who is also on call for another: one daily summary at their hour, covering
    both brands, whichever brand is listed first (before, only when the executive entry came first)."""
    person = {"name": "Dana", "channel": "sms", "address": "+14155550142", "timezone": "America/New_York"}
    for name in ("a-air", "b-air"):
        role = "executive" if name == executive_of else "pr_oncall"
        runtime.store().brands.put(
            make_brand(name=name, display_name=name.upper(), recipients=[{**person, "role": role}])
        )
    notifier = runtime.notifier()
    morning = datetime(2026, 11, 20, 13, 2, tzinfo=UTC)  # 08:02 EST
    assert notifier.tick(morning).summaries == 1
    assert notifier.tick(morning + timedelta(minutes=5)).summaries == 0
    [(_, text)] = sms_sent()
    assert "A-AIR" in text and "B-AIR" in text


def test_a_persons_quiet_hours_hold_their_alerts_from_every_brand(aws: Any) -> None:
    night = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 23:00 in New York
    person = {"name": "Dana", "channel": "sms", "address": ONCALL, "role": "pr_oncall"}
    runtime.store().brands.put(make_brand(name="acme-air", recipients=[person]))  # listed first, no quiet hours
    runtime.store().brands.put(
        make_brand(name="zenith", recipients=[{**person, "timezone": "America/New_York", "quiet_hours": [22, 7]}])
    )
    notifier = runtime.notifier()
    publish("open", opened_at=night, peak_at=night, id="acme-air:night")
    assert notifier.drain(night).held == 1 and sms_sent() == []
    notifier.tick(datetime(2026, 11, 21, 12, 1, tzinfo=UTC))  # 07:01 local
    assert len(sms_sent()) == 1


def _mentions(count: int, at: datetime, *, negative: bool = True) -> list[Any]:
    from groundswell.domain.models import Mention, Sentiment

    sentiment = Sentiment.NEGATIVE if negative else Sentiment.NEUTRAL
    return [
        Mention(
            source="replay",
            id=f"{at:%H%M}-{negative}-{i}",
            brand="acme-air",
            text="acme air outage",
            author=f"user{i}",
            created_at=at + timedelta(seconds=i),
            sentiment=sentiment,
            sentiment_score=-0.5 if negative else 0.0,
        )
        for i in range(count)
    ]


def test_every_message_gives_the_numbers_as_of_sending_not_the_peaks(notifier: Any) -> None:
    """Before, the numbers were the peak's: an all-clear read "negative share, last hour: 85%" when the last
    hour was calm, and a reminder hours after a burst said "right now" with the burst's count."""
    store = runtime.store()
    burst, calm = T0 - timedelta(minutes=20), T0 + timedelta(hours=3)
    store.mentions.store(_mentions(85, burst) + _mentions(15, burst, negative=False))  # the burst: 85% negative
    for minute in range(0, 60, 5):  # the hour before the all clear: 3 negative of 12 a bucket (25%)
        at = calm - timedelta(hours=1) + timedelta(minutes=minute)
        store.mentions.store(_mentions(3, at) + _mentions(9, at, negative=False))
    publish("open", peak_at=T0 - timedelta(minutes=15))
    notifier.drain(T0)
    publish("resolve", peak_at=T0 - timedelta(minutes=15), resolved_at=calm - timedelta(minutes=5))
    notifier.drain(calm)

    parsed = [email.message_from_string(m.raw_data, policy=email.policy.default) for m in emails_sent()]
    clear = [m for m in parsed if "All clear" in str(m["Subject"])]
    assert clear, [str(m["Subject"]) for m in parsed]
    body = clear[-1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Negative share, last hour: 25%" in body and "85%" not in body
    assert "36 in the last 2h" in body and "Lasted: 2h55m" in body, body
    [all_clear] = [t for p, t in sms_sent() if "ALL CLEAR" in t]
    assert "lasted 2h55m, peak 84 neg/15m" in all_clear  # "now 36/2h" too when the link is shorter


def test_an_attention_notice_reaches_email_and_chat_once_and_never_sms_or_pagerduty(aws: Any) -> None:
    slack = {"name": "War room", "channel": "webhook", "address": "https://hooks.slack.com/services/T0/B0/x"}
    pager = {"name": "PD", "channel": "pagerduty", "address": "R" * 32, "role": "pr_oncall"}
    runtime.store().brands.put(make_brand(recipients=[*recipients(), slack, pager]))
    notifier = runtime.notifier()
    posted = _capture_posts(notifier)
    noticed = {"id": "acme-air:20261120T1405:attention", "kind": "attention", "severity": 1, "drivers": ("fleek",)}
    publish("open", **noticed)
    report = notifier.drain(T0)
    assert report.sent == 3 and sms_sent() == []  # the desk, the lead (every rung), the war room; not the phone
    assert sorted(m.destinations[0] for m in emails_sent()) == ["desk@example.com", LEAD]
    subjects = [
        str(email.message_from_string(m.raw_data, policy=email.policy.default)["Subject"]) for m in emails_sent()
    ]
    assert all(s.startswith("[Attention] Acme Air: 84 posts in 15m, 9x usual") for s in subjects), subjects
    [(url, payload)] = posted  # Slack only: PagerDuty is paging
    assert url == slack["address"] and "UNUSUAL ATTENTION" in payload["text"]
    assert payload["blocks"][-1]["elements"][0]["text"]["text"] == "View incident"
    for hours in (1, 4, 12):  # no reminders, no ladder
        notifier.tick(T0 + timedelta(hours=hours))
    publish("resolve", resolved_at=T0 + timedelta(hours=2), **noticed)
    notifier.drain(T0 + timedelta(hours=13))
    assert len(emails_sent()) == 2 and len(posted) == 1 and sms_sent() == []


def test_an_alert_email_gives_the_brands_share_of_its_peers_negative_posts(aws: Any) -> None:
    from groundswell.domain.models import Mention, Sentiment

    runtime.store().brands.put(make_brand(recipients=recipients(), peers=["beta-air"]))
    posts = [
        Mention(
            source="bluesky",
            id=f"{brand}-{i}",
            brand=brand,
            text="cancelled again",
            author=f"{brand}-person-{i}",
            created_at=T0 - timedelta(minutes=30) + timedelta(seconds=i),
            sentiment=Sentiment.NEGATIVE,
        )
        for brand, many in (("acme-air", 30), ("beta-air", 10))
        for i in range(many)
    ]
    runtime.store().mentions.store(posts)
    publish("open")
    runtime.notifier().drain(T0)
    bodies = [
        email.message_from_string(m.raw_data, policy=email.policy.default).get_body(preferencelist=("plain",))
        for m in emails_sent()
    ]
    text = bodies[0].get_content()  # type: ignore[union-attr]
    assert "Share among peers: 75% of the negative posts about it and 1 peer, last hour" in text


def test_an_alert_goes_without_the_peers_share_when_their_counts_cannot_be_read(aws: Any) -> None:
    """The peers' share is an extra row: a throttled read of a peer's counts must not hold the alert."""
    from botocore.exceptions import ClientError

    runtime.store().brands.put(make_brand(recipients=recipients(), peers=["beta-air"]))
    publish("open")
    notifier = runtime.notifier()
    real = notifier.deliverer.content.recent_buckets

    def throttled(brand: str, end: Any, earliest: Any = None) -> Any:
        if brand == "beta-air":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")
        return real(brand, end, earliest)

    object.__setattr__(notifier.deliverer.content, "recent_buckets", throttled)
    assert notifier.drain(T0).sent == 2
    text = email.message_from_string(emails_sent()[0].raw_data, policy=email.policy.default).get_body(
        preferencelist=("plain",)
    )
    assert "Share among peers" not in text.get_content()  # type: ignore[union-attr]
