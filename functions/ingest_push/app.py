"""Function URL: accepts signed batches of mentions pushed by vendors or webhooks."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from groundswell import runtime
from groundswell.adapters import function_urls
from groundswell.domain.push import SIGNATURE_HEADER, PushRejected, Refusal
from groundswell.observability import logger, metrics, traced

STATUS = {
    Refusal.UNSIGNED: 401,
    Refusal.MALFORMED: 400,
    Refusal.TOO_LARGE: 413,
    Refusal.UNKNOWN_BRAND: 404,
    Refusal.REPLAY: 409,
}


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if function_urls.method(event, "POST") != "POST":
        return _reply(405, {"error": "use POST"})
    try:
        body = function_urls.body_bytes(event)
    except function_urls.BadRequest as exc:
        return _reply(400, {"error": str(exc)})
    try:
        return _reply(200, runtime.accept_push(body, function_urls.headers(event).get(SIGNATURE_HEADER)))
    except PushRejected as exc:
        logger.warning("push rejected", extra={"status": STATUS[exc.reason], "reason": str(exc)})
        return _reply(STATUS[exc.reason], {"error": str(exc)})


def _reply(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}
