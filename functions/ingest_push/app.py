"""Function URL: accepts signed batches of mentions pushed by vendors or webhooks."""

from __future__ import annotations

import base64
import json
from typing import Any

from groundswell import runtime
from groundswell.observability import logger, metrics, traced
from groundswell.push import SIGNATURE_HEADER, PushRejected


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "POST")
    if method != "POST":
        return _reply(405, {"error": "use POST"})
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        return _reply(200, runtime.accept_push(body, headers.get(SIGNATURE_HEADER)))
    except PushRejected as exc:
        logger.warning("push rejected", extra={"status": exc.status, "reason": str(exc)})
        return _reply(exc.status, {"error": str(exc)})


def _reply(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}
