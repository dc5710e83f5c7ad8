"""No one outside can crash a function: the push URL, the link URL and inbound SMS answer any bytes, method,
path, query and body with 2xx or 4xx (fuzzed with hypothesis), never an unhandled exception."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.lambda_runtime import LambdaContext

pytestmark = pytest.mark.integration
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(st.characters(codec=None), max_size=80)
METHODS = st.just("POST") | st.just("GET") | st.sampled_from(["PUT", "DELETE", "HEAD", "OPTIONS", "get", ""]) | TEXT


@st.composite
def url_events(draw: Any) -> dict[str, Any]:
    """A Function URL event (payload format 2.0) with anything in it."""
    raw_body = draw(st.binary(max_size=200) | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
    encoded = draw(st.booleans())
    body: Any = draw(st.sampled_from(["b64", "text", "garbage", "none"]))
    if body == "b64":
        value: Any = base64.b64encode(raw_body).decode()
    elif body == "text":
        value = raw_body.decode("utf-8", "replace")
    elif body == "garbage":
        value = draw(TEXT)
    else:
        value = None
    path = draw(st.just("/a/" + "A" * 20) | st.sampled_from(["/", "/a/", "/a/../../etc", "/push"]) | TEXT)
    headers = draw(st.dictionaries(TEXT, TEXT, max_size=3) | st.just({"x-groundswell-signature": "t=1,v1=ab"}))
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": draw(TEXT),
        "headers": headers,
        "requestContext": {"http": {"method": draw(METHODS), "path": path}},
        "body": value,
        "isBase64Encoded": encoded,
    }


@FUZZ
@given(event=url_events())
def test_the_push_url_answers_anything_with_2xx_or_4xx(aws: Any, event: dict[str, Any]) -> None:
    from functions.ingest_push import app

    reply = app.handler(event, LambdaContext())
    assert 200 <= reply["statusCode"] < 500, reply


@FUZZ
@given(event=url_events(), choice=TEXT)
def test_the_link_url_answers_anything_with_2xx_or_4xx(aws: Any, event: dict[str, Any], choice: str) -> None:
    from functions.alert_actions import app

    if event["body"] is None:
        event["body"] = f"action={choice}"
    reply = app.handler(event, LambdaContext())
    assert 200 <= reply["statusCode"] < 500, reply


@FUZZ
@given(message=TEXT | st.dictionaries(TEXT, TEXT | st.integers(), max_size=3).map(json.dumps), phone=TEXT, body=TEXT)
def test_inbound_sms_handles_any_message(aws: Any, message: str, phone: str, body: str) -> None:
    from functions.alert_actions import app

    sms = json.dumps({"originationNumber": phone, "messageBody": body})
    for text in (message, sms):
        event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": text}}]}
        assert set(app.handler(event, LambdaContext())) == {"handled"}


@FUZZ
@given(
    choice=st.sampled_from(
        ["ack", "snooze-2", "snooze-\u00b2", "snooze-99999999999999999999", "snooze--1", "snooze-0", "", "ack-ack"]
    )
    | TEXT
)
def test_a_valid_link_answers_any_action_with_2xx_or_4xx(aws: Any, choice: str) -> None:
    from urllib.parse import urlencode

    from functions.alert_actions import app
    from groundswell import runtime
    from groundswell.domain.alerting import links
    from tests.conftest import make_brand

    runtime.store().brands.put(make_brand())
    record = links.LinkRecord(
        recipient="sms-x",
        recipient_name="On-call",
        incidents=("acme-air:1",),
        brands=("acme-air",),
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    link_id, token = links.new_token(runtime.link_keys()[0], record)
    runtime.store().claims.put_link(link_id, record.model_dump_json(), record.expires_at)
    event = {
        "rawPath": f"/a/{token}",
        "requestContext": {"http": {"method": "POST"}},
        "body": urlencode({"action": choice}, encoding="utf-8", errors="surrogatepass"),
    }
    reply = app.handler(event, LambdaContext())
    assert 200 <= reply["statusCode"] < 500, reply
