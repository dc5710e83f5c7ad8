"""Function URL for the incident page behind each alert's signed link, and the SNS topic of inbound SMS replies.

GET shows the incident (mail scanners that prefetch links must not act on anything); the page's buttons POST
the actions: acknowledge, snooze, resolved, not a crisis. Every page is served with a strict
Content-Security-Policy (no script; images only inline), no caching, no referrer, no framing.
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
    "Content-Security-Policy": (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
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
        return _page(404, "Not found", "This is the Groundswell incident page endpoint.")
    token = path.removeprefix("/a/").strip("/")
    notifier, now = runtime.notifier(), datetime.now(UTC)
    if method == "GET":  # shows, never acts: mail scanners prefetch links
        outcome, page = notifier.page(token, now, more=function_urls.query(event).get("more") == "1")
        if outcome is not Outcome.DONE:
            return _page(STATUS[outcome], "Link not valid" if outcome is Outcome.REFUSED else "Not shown", page)
        return {"statusCode": 200, "headers": HEADERS, "body": page}
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
    if result.outcome is not Outcome.DONE:
        return _page(STATUS[result.outcome], "Not done", result.message)
    outcome, page = notifier.page(token, now, banner=result.message)  # the page again, as it now stands
    if outcome is not Outcome.DONE:
        return _page(200, "Done", result.message)
    return {"statusCode": 200, "headers": HEADERS, "body": page}


def _page(status: int, title: str, body: str) -> dict[str, Any]:
    """A short page that says one thing (the incident page itself is rendered by the notifier)."""
    content = f"<p>{html.escape(body)}</p>"
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width"><title>{html.escape(title)}</title></head>'
        f'<body style="font-family:Helvetica,Arial,sans-serif;max-width:32em;margin:2em auto;padding:0 1em">'
        f"<h1>{html.escape(title)}</h1>{content}</body></html>"
    )
    return {"statusCode": status, "headers": HEADERS, "body": page}
