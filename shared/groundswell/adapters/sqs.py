"""SQS: the poll queue (requests in batches of 10) and the notifier's wake-up message."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

BATCH = 10  # SendMessageBatch's limit


class Queue:
    def __init__(self, client: Any, url: str):
        self._sqs, self.url = client, url

    def send_all(self, bodies: Sequence[str]) -> int:
        """Sends every body, 10 per call; raises if SQS refuses any (the scheduler retries the whole dispatch:
        a poll request sent twice is harmless, the cursor makes the second poll find nothing new)."""
        for start in range(0, len(bodies), BATCH):
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + BATCH])]
            reply = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            if reply.get("Failed"):
                raise RuntimeError(f"SQS refused {len(reply['Failed'])} messages: {reply['Failed'][0]}")
        return len(bodies)

    def send(self, body: str) -> None:
        self._sqs.send_message(QueueUrl=self.url, MessageBody=body)


def wake_up(now: datetime | None) -> str:
    """The notifier's wake-up message: the simulated clock when there is one (in AWS, none)."""
    return json.dumps({"now": now.isoformat()} if now else {})
