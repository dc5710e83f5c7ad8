"""Push signatures, log redaction, settings errors and the poll-request contract."""

from __future__ import annotations

import io
import json
import logging

import pytest

from groundswell.config import ConfigError, settings
from groundswell.domain.push import PushRejected, Refusal, parse_batch, sign, verify
from groundswell.observability import RedactingFormatter, mask_email, mask_phone
from groundswell.runtime import PollRequest

KEY = b"k" * 32


def test_a_valid_signature_verifies_and_anything_else_is_401() -> None:
    body = b'{"brand": "acme-air", "mentions": []}'
    header = sign(KEY, body, 1_000_000)
    assert verify(KEY, body, header, now=1_000_010, max_skew=300) == header.split("v1=")[1]
    for bad_header, now in (
        (sign(KEY, body + b" ", 1_000_000), 1_000_010),  # body changed
        (sign(b"other", body, 1_000_000), 1_000_010),  # wrong key
        (header, 1_000_400),  # too old
        ("t=abc,v1=00", 1_000_000),
        ("", 1_000_000),
    ):
        with pytest.raises(PushRejected) as error:
            verify(KEY, body, bad_header, now=now, max_skew=300)
        assert error.value.reason is Refusal.UNSIGNED


def test_batches_are_bounded_and_shaped() -> None:
    with pytest.raises(PushRejected, match="'mentions' must be a list"):
        parse_batch(b'{"brand": "a", "mentions": {}}')
    with pytest.raises(PushRejected) as error:
        parse_batch(json.dumps({"brand": "a", "mentions": [{}] * 1001}).encode())
    assert error.value.reason is Refusal.TOO_LARGE


def test_logs_mask_phone_numbers_emails_and_secrets() -> None:
    from aws_lambda_powertools import Logger

    stream = io.StringIO()
    logger = Logger(
        service="redaction-test", logger_formatter=RedactingFormatter(), logger_handler=logging.StreamHandler(stream)
    )
    logger.info(
        "alert sent",
        extra={
            "to": "+14155550123",
            "email": "jane.doe@example.com",
            "password": "hunter2",
            "arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
        },
    )
    line = stream.getvalue()
    assert "+14155550123" not in line and "+*********23" in line
    assert "jane.doe" not in line and "j***@example.com" in line
    assert "hunter2" not in line
    assert "123456789012" in line  # account ids and timestamps are not phone numbers
    assert mask_phone("call +44 20 7946 0958 now") == "call +*************58 now"
    assert mask_email("a@b.io") == "a***@b.io"


def test_a_wrong_configuration_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("SENTIMENT_SCORER", "magic")
    monkeypatch.setenv("MENTION_TTL_DAYS", "0")
    with pytest.raises(ConfigError) as error:
        settings()
    assert "SENTIMENT_SCORER" in str(error.value) and "MENTION_TTL_DAYS" in str(error.value)


def test_a_missing_table_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(ConfigError, match="TABLE_NAME"):
        settings()


def test_poll_request_contract() -> None:
    """The dispatcher's message is the poller's input: this shape is a contract between the two."""
    message = PollRequest(brand="acme-air", source="hackernews").model_dump_json(exclude_none=True)
    assert json.loads(message) == {"brand": "acme-air", "source": "hackernews"}
    assert PollRequest.model_validate_json('{"brand": "acme-air", "source": "rss", "now": "2026-11-20T15:00:00Z"}').now
    with pytest.raises(ValueError):
        PollRequest.model_validate_json('{"brand": "Acme Air", "source": "rss"}')
