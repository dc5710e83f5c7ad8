"""SQS (the detector's wake-up) and a schedule (every few minutes): sends the alerts that are due."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from groundswell import runtime
from groundswell.domain.text import parse_timestamp
from groundswell.observability import logger, metrics, traced


@traced
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    if isinstance(event, dict) and "Records" in event:  # one drain covers the whole batch (messages only wake us)
        bodies = [json.loads(record.body or "{}") for record in SQSEvent(event).records]
        times = [parse_timestamp(b["now"]) for b in bodies if b.get("now")]
        report = runtime.notifier().drain(max(times) if times else datetime.now(UTC))
    else:
        now = parse_timestamp(event["now"]) if isinstance(event, dict) and event.get("now") else datetime.now(UTC)
        report = runtime.notifier().tick(now)
    return dict(report.__dict__)
