"""Invoking the real handlers outside Lambda: a Lambda context, SQS events, and an SQS drain loop."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    function_name: str = "local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_event(
    messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:local"
) -> dict[str, Any]:
    """An SQS event for a Lambda, from messages as ``receive_message`` returns them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": "0",
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def invoke_once(handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], name: str = "local") -> Any:
    """One invocation as Lambda makes it: an exception is logged (as Lambda's runtime would) and comes back as
    None, so the caller applies the trigger's retry rule instead of crashing the simulation."""
    try:
        return handler(event, LambdaContext(name))
    except Exception as exc:
        print(
            json.dumps(
                {
                    "level": "ERROR",
                    "message": "invocation failed",
                    "function": name,
                    "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                }
            )
        )
        return None


def invoke_scheduled(
    handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], name: str, retries: int
) -> Any:
    """A scheduled invocation with the schedule's retry policy (``MaximumRetryAttempts``): retried up to
    ``retries`` times after a failure; None when every attempt failed (the next cycle catches up)."""
    for _ in range(retries + 1):
        result = invoke_once(handler, event, name)
        if result is not None:
            return result
    return None


@dataclass
class DrainReport:
    invocations: int = 0
    processed: int = 0
    failed: int = 0


def drain_queue(
    sqs: Any,
    queue_url: str,
    handler: Callable[[dict[str, Any], Any], Any],
    *,
    batch_size: int = 5,
    redeliver_every: int = 0,
) -> DrainReport:
    """Feeds every message on the queue to ``handler`` as Lambda's SQS event source would: successful
    messages are deleted, reported failures stay for redelivery. ``redeliver_every=N`` invokes every Nth
    batch twice, as SQS's at-least-once delivery may."""
    report = DrainReport()
    while True:
        reply = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            VisibilityTimeout=0,
            AttributeNames=["ApproximateReceiveCount"],
        )
        messages = reply.get("Messages", [])
        if not messages:
            return report
        event = sqs_event(messages)
        result = invoke_once(handler, event)
        report.invocations += 1
        if redeliver_every and report.invocations % redeliver_every == 0:
            invoke_once(handler, event)
            report.invocations += 1
        if result is None:  # the invocation raised: Lambda returns the whole batch to the queue
            failed = {m["MessageId"] for m in messages}
        else:
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        report.failed += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        report.processed += len(done)
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if failed:
            return report  # leave failures for the next tick, as a visibility timeout would
