"""Scheduled: one detection cycle over every brand (state and incidents in DynamoDB)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from groundswell import runtime
from groundswell.domain.text import parse_timestamp
from groundswell.observability import logger, metrics, traced


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    now = parse_timestamp(event["now"]) if isinstance(event, dict) and event.get("now") else None
    return runtime.detect(now, owner=context.aws_request_id)
