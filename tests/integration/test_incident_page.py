"""The incident page behind an alert's link (the alert_actions handler on moto): what it shows, that GET never
acts, that hostile post text stays text, the actions people take there, and the note to the others told."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from groundswell import runtime
from groundswell.domain.alerting.lifecycle import AlertState
from groundswell.domain.models import Mention, Sentiment
from tests.conftest import make_brand
from tests.integration.test_notifier import T0, emails_sent, publish, recipients, sms_sent

pytestmark = pytest.mark.integration
HOSTILE = '<script>alert(1)</script> acme air outage "><img src=x onerror=alert(2)>'


def _get(token: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    from functions.alert_actions.app import handler
    from infra.lambda_runtime import LambdaContext

    event = {"rawPath": f"/a/{token}", "requestContext": {"http": {"method": "GET"}}}
    if query:
        event["queryStringParameters"] = query
    return handler(event, LambdaContext())


def _post(token: str, action: str) -> dict[str, Any]:
    from functions.alert_actions.app import handler
    from infra.lambda_runtime import LambdaContext

    event = {"rawPath": f"/a/{token}", "requestContext": {"http": {"method": "POST"}}, "body": f"action={action}"}
    return handler(event, LambdaContext())


def _token(text: str) -> str:
    found = re.search(r"/a/([0-9A-Za-z]{20})", text)
    assert found, text
    return found.group(1)


def _state() -> AlertState:
    stored = runtime.store().deliveries.alert_state("acme-air:20261120T1405")
    assert stored is not None
    return AlertState.model_validate_json(stored.state)


@pytest.fixture
def opened(aws: Any) -> str:
    """An open incident with 30 negative posts (one hostile) told to the on-call by SMS; the SMS's link."""
    store = runtime.store()
    store.brands.put(make_brand(recipients=recipients()))
    posts = [
        Mention(
            source="bluesky",
            id=f"post-{i}",
            brand="acme-air",
            text=HOSTILE if i == 0 else f"acme air outage again, flight {i} cancelled",
            author='"><img src=x onerror=alert(3)>' if i == 0 else f"traveller{i}",
            created_at=T0 + timedelta(minutes=i % 15),
            url="javascript:alert(4)" if i == 0 else f"https://bsky.app/profile/t{i}/post/{i}",
            likes=100 - i,
            sentiment=Sentiment.NEGATIVE,
            sentiment_score=-0.8,
        )
        for i in range(30)
    ]
    store.mentions.store(posts)
    publish("open")
    runtime.notifier().drain(datetime.now(UTC))  # links are checked against the real clock
    return _token(sms_sent()[0][1])


def test_the_link_opens_the_incident_page_with_what_a_lead_needs(opened: str) -> None:
    page = _get(opened)
    assert page["statusCode"] == 200
    body = page["body"]
    for expected in (
        "Acme Air",
        "severity 3 (high)",
        "Open, not acknowledged",
        "People are posting about: <strong>outage, refund, app</strong>",
        "Negative posts",
        "Right now",
        "Last 48 hours",
        'src="data:image/png;base64,',
        "Sample posts",
        "reply on bluesky",
        "Timeline",
        "Opened at severity 3 (84 negative posts in 15m, 9.1x)",
        "Texted On-call (sms): the alert",
        "Emailed Desk (email): the alert",
        'value="ack"',
        'value="snooze-1"',
        'value="resolve"',
        'value="dismiss"',
    ):
        assert expected in body, expected
    assert "img-src data:" in page["headers"]["Content-Security-Policy"]
    assert "script-src" not in page["headers"]["Content-Security-Policy"]  # default-src 'none': no script at all


def test_hostile_post_text_is_text_on_the_page(opened: str) -> None:
    body = _get(opened, {"more": "1"})["body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script" not in body and "onerror=alert" not in body.replace("&#34;&gt;&lt;img src=x onerror=", "")
    assert "<img src=x" not in body and "javascript:" not in body  # the post's link is dropped, not kept
    assert body.count("<img") == 1  # the chart, nothing else


def test_get_never_acts_and_more_posts_are_there_on_demand(opened: str) -> None:
    first = _get(opened)["body"]
    assert first.count('class="post"') == 5 and "More posts" in first
    more = _get(opened, {"more": "1"})["body"]
    assert more.count('class="post"') == 25 and "More posts" not in more
    state = _state()
    assert state.acked_by is None and state.snoozed_until is None and state.verdict is None


def test_not_a_crisis_is_recorded_with_who_said_it(opened: str) -> None:
    done = _post(opened, "dismiss")
    assert done["statusCode"] == 200
    assert "marked not a crisis by On-call" in done["body"]  # the banner, on the page as it now stands
    assert "Marked not a crisis by On-call" in done["body"] and 'value="ack"' not in done["body"]
    state = _state()
    assert state.verdict is not None and (state.verdict.call, state.verdict.by) == ("not a crisis", "On-call")
    assert state.acked_by == "On-call"  # reminders stop
    again = _post(opened, "resolve")  # the first call stands
    assert "Nothing changed" in again["body"] and _state().verdict.call == "not a crisis"  # type: ignore[union-attr]


def test_an_acknowledgement_is_shared_once_with_the_others_told(opened: str) -> None:
    notifier, now = runtime.notifier(), datetime.now(UTC)
    notifier.tick(now + timedelta(minutes=31))  # unacknowledged: the comms lead hears too
    before_sms, before_email = len(sms_sent()), len(emails_sent())
    assert _post(opened, "ack")["statusCode"] == 200
    notifier.tick(now + timedelta(minutes=35))
    notifier.tick(now + timedelta(minutes=40))  # once
    assert len(sms_sent()) == before_sms  # not to the one who took it
    notes = emails_sent()[before_email:]
    assert sorted(m.destinations[0] for m in notes) == ["desk@example.com", "lead@example.com"]
    subjects = [str(email.message_from_string(m.raw_data, policy=email.policy.default)["Subject"]) for m in notes]
    assert subjects == ["[SEV3] Acme Air: taken by On-call"] * 2
    assert "Acknowledged by On-call" in _get(opened)["body"]


def test_groundswell_incidents_lists_shows_and_exports_what_the_page_shows(
    opened: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from infra.cli import main

    _post(opened, "ack")
    capsys.readouterr()  # the handler's metrics
    assert main(["incidents", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and listed[0].startswith("acme-air:20261120T1405") and "acknowledged" in listed[0]
    assert "SEV3" in listed[0] and "outage, refund, app" in listed[0]
    assert main(["incidents", "list", "--open", "--brand", "acme-air"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["incidents", "show", "acme-air:20261120T1405", "--posts", "3"]) == 0
    shown = capsys.readouterr().out
    for expected in ("Acknowledged by On-call", "Negative posts:", "Texted On-call (sms): the alert", "Sample posts"):
        assert expected in shown, expected
    assert shown.count(" interactions") == 3
    assert main(["incidents", "export"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["acknowledged_by"] == "On-call" and record["incident"]["id"] == "acme-air:20261120T1405"
    assert record["facts"]["Negative posts"].startswith("84 in 15m") and len(record["samples"]) == 25
    assert any("Texted On-call" in m["what"] for m in record["timeline"])
    assert main(["incidents", "show", "acme-air:nope"]) == 1
    assert "no incident" in capsys.readouterr().err


def test_the_timeline_is_in_the_notifiers_time_not_the_tables(aws: Any) -> None:
    """A replay or the demo runs on a simulated clock: the messages are placed when the notifier sent them."""
    store = runtime.store()
    store.brands.put(make_brand(recipients=recipients()))
    publish("open")
    notifier = runtime.notifier()
    notifier.drain(T0 + timedelta(minutes=1))
    state = _state()
    brand = store.brands.get("acme-air")
    assert brand is not None
    told = [m for m in notifier.pages.facts.timeline(state, brand) if m.what.startswith(("Texted", "Emailed"))]
    assert len(told) == 2 and {m.at for m in told} == {T0 + timedelta(minutes=1)}


def test_an_open_incidents_peak_is_shown_as_last_reported(opened: str) -> None:
    """The detector republishes a peak only when it is 1.5x the last: between transitions, the page cannot
    know the peak is the latest, and says whose it is."""
    body = _get(opened)["body"]
    assert "Peak as last reported" in body


def test_an_attention_notices_page_and_cli_say_it_paged_no_one(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    store = runtime.store()
    store.brands.put(make_brand(recipients=recipients()))
    notice_id = "acme-air:20261120T1405:attention"
    publish("open", id=notice_id, kind="attention", severity=1, drivers=("fleek",))
    runtime.notifier().drain(datetime.now(UTC))
    assert sms_sent() == []
    messages = emails_sent()
    assert len(messages) == 2  # the desk and the lead: email, every rung
    page = _get(_token(messages[0].raw_data))
    assert page["statusCode"] == 200
    body = page["body"]
    assert "unusual attention (not paging)" in body and "an attention notice, nobody paged" in body
    assert "All posts" in body and "Negative posts" not in body
    assert 'value="ack"' not in body and 'value="dismiss"' in body  # nothing to acknowledge; a call to make
    from infra.cli import main

    capsys.readouterr()
    assert main(["incidents", "show", notice_id]) == 0  # the id has two colons: the brand is before the first
    shown = capsys.readouterr().out
    assert shown.startswith("Acme Air  unusual attention (not paging)  " + notice_id)
    assert main(["incidents", "list"]) == 0
    assert "ATTN" in capsys.readouterr().out
