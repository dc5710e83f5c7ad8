"""SQS consumer: polls one (brand, source) per message, or backfills one brand-day of a source's history
(``"kind": "backfill"``); failed or unfinished messages are retried (a backfill resumes), then dead-lettered."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from groundswell import runtime
from groundswell.observability import logger, metrics, traced

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    """Powertools passes the context to a record handler with a ``lambda_context`` parameter."""
    time_left = lambda_context.get_remaining_time_in_millis() / 1000 if lambda_context is not None else None
    if '"backfill"' in record.body:  # cheap first look; the model decides
        from groundswell.domain.backfill import BackfillRequest

        body = json.loads(record.body)
        if isinstance(body, dict) and body.get("kind") == "backfill":
            runtime.backfill(BackfillRequest.model_validate(body), time_left=time_left)
            return
    runtime.poll(runtime.PollRequest.model_validate_json(record.body), time_left=time_left)


@traced
@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
