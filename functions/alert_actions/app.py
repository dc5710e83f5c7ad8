"""Function URL for signed acknowledge/snooze links, and the SNS topic of inbound SMS replies.

GET shows a confirmation page (mail scanners that prefetch links must not acknowledge anything); the page's
POST acts. Every page is served with a strict Content-Security-Policy and no caching or referrer.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.data_classes import SNSEvent
from aws_lambda_powertools.utilities.data_classes.sns_event import SNSEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from groundswell import runtime
from groundswell.adapters import function_urls
from groundswell.observability import logger, metrics, traced
from groundswell.usecases.actions import Outcome

HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") if isinstance(event, dict) else None
    if (
        isinstance(records, list)
        and records
        and isinstance(records[0], dict)
        and records[0].get("EventSource") == "aws:sns"
    ):
        return {"handled": [_inbound(_message(record)) for record in SNSEvent(event).records]}
    return _http(event)


def _message(record: SNSEventRecord) -> Any:
    try:
        return record.sns.message
    except (KeyError, TypeError, AttributeError):  # a record without its message: not ours to act on
        return None


def _inbound(message: Any) -> str:
    """An inbound SMS as End User Messaging publishes it: originationNumber, messageBody."""
    try:
        sms = json.loads(message)
        phone, body = str(sms["originationNumber"]), str(sms["messageBody"])
    except (ValueError, KeyError, TypeError, IndexError):
        logger.warning("inbound SMS message not understood")
        return "ignored"
    outcome = runtime.notifier().inbound_sms(phone, body[:160], datetime.now(UTC))
    logger.info("inbound SMS", extra={"outcome": outcome})
    return outcome


STATUS = {Outcome.DONE: 200, Outcome.REFUSED: 403, Outcome.INVALID: 400}


def _http(event: dict[str, Any]) -> dict[str, Any]:
    method, path = function_urls.method(event, "GET"), function_urls.path(event)
    if not path.startswith("/a/"):
        return _page(404, "Not found", "This is the Groundswell acknowledgement endpoint.")
    token = path.removeprefix("/a/").strip("/")
    notifier, now = runtime.notifier(), datetime.now(UTC)
    if method == "GET":
        verdict, record = notifier.check_link(token, now)
        if record is None:
            return _page(403, "Link not valid", verdict.reason)
        incidents = ", ".join(record.incidents)
        form = (
            f'<form method="post"><p>{html.escape(record.recipient_name)}, act on: '
            f"<b>{html.escape(incidents)}</b></p>"
            '<button name="action" value="ack">Acknowledge</button> '
            '<button name="action" value="snooze-1">Snooze 1 h</button> '
            '<button name="action" value="snooze-2">Snooze 2 h</button> '
            '<button name="action" value="snooze-4">Snooze 4 h</button></form>'
        )
        return _page(200, "Groundswell alert", form, escaped=True)
    if method != "POST":
        return _page(405, "Method not allowed", "Use the buttons on the page.")
    try:
        body = function_urls.body_bytes(event)[:200].decode("utf-8", "replace")
    except function_urls.BadRequest as exc:
        return _page(400, "Not understood", str(exc))
    choice = parse_qs(body).get("action", [""])[0]
    action, _, hours = choice.partition("-")
    snooze = int(hours) if hours.isascii() and hours.isdigit() and len(hours) <= 2 else (0 if hours else 2)
    result = notifier.act(token, action, now, snooze)
    return _page(STATUS[result.outcome], "Done" if result.outcome is Outcome.DONE else "Not done", result.message)


def _page(status: int, title: str, body: str, *, escaped: bool = False) -> dict[str, Any]:
    content = body if escaped else f"<p>{html.escape(body)}</p>"
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width"><title>{html.escape(title)}</title></head>'
        f'<body style="font-family:Helvetica,Arial,sans-serif;max-width:32em;margin:2em auto;padding:0 1em">'
        f"<h1>{html.escape(title)}</h1>{content}</body></html>"
    )
    return {"statusCode": status, "headers": HEADERS, "body": page}
