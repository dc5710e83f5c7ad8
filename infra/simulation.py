"""The real Lambda handlers on the local stack, driven one simulated 5-minute step at a time.

Each step does what EventBridge Scheduler, SQS and Lambda do in AWS: the dispatcher fans out poll requests,
the poller consumes them (every ``redeliver_every``-th batch twice, as SQS may), the detector runs a cycle,
the notifier drains what the detector woke it for, and the notifier's 5-minute tick runs. Used by
``groundswell demo`` and ``groundswell replay``; every message sent is kept by an :class:`Inbox`.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from infra.lambda_runtime import drain_queue, invoke_scheduled
from infra.template_resources import Provisioned


@dataclass(frozen=True)
class Step:
    now: datetime
    dispatched: int
    poll_invocations: int
    failed_messages: int


class Pipeline:
    """Use as a context manager: the handlers log into ``log`` meanwhile."""

    def __init__(self, resources: Provisioned, session: Any, log: IO[str], *, redeliver_every: int = 7):
        from functions.detect_spikes import app as detect_app
        from functions.dispatch_polls import app as dispatch_app
        from functions.notify import app as notify_app
        from functions.poll_mentions import app as poll_app
        from groundswell.observability import logger

        self._apps = dispatch_app, poll_app, detect_app, notify_app
        self._sqs, self._resources, self._log = session.client("sqs"), resources, log
        self._redeliver_every = redeliver_every
        self._handler = logger.registered_handler

    def __enter__(self) -> Pipeline:
        """Sends the handlers' logs to the log file while the pipeline runs."""
        self._previous = self._handler.stream  # type: ignore[attr-defined]
        self._handler.setStream(self._log)  # type: ignore[attr-defined]
        return self

    def __exit__(self, *_: object) -> None:
        self._handler.setStream(self._previous)  # type: ignore[attr-defined]

    def step(self, now: datetime) -> Step:
        dispatch_app, poll_app, detect_app, notify_app = self._apps
        clock = {"now": now.isoformat()}
        queues = self._resources.queues
        # as in AWS: a scheduled invocation that raises is retried by its schedule's retry policy (template.yaml:
        # 2 for the dispatcher, 0 for the detector and the tick, whose next run catches up); an SQS batch whose
        # invocation raises goes back to its queue, and to the dead-letter queue after maxReceiveCount receives
        with contextlib.redirect_stdout(self._log):
            dispatched = invoke_scheduled(dispatch_app.handler, clock, "dispatch_polls", retries=2)
            polled = drain_queue(
                self._sqs, queues["PollQueue"], poll_app.handler, redeliver_every=self._redeliver_every
            )
            drain_queue(self._sqs, queues["BackfillQueue"], poll_app.handler, redeliver_every=self._redeliver_every)
            invoke_scheduled(detect_app.handler, clock, "detect_spikes", retries=0)
            drain_queue(self._sqs, queues["NotifyQueue"], notify_app.handler, redeliver_every=2)
            invoke_scheduled(notify_app.handler, clock, "notify", retries=0)  # the scheduled tick
        return Step(now, (dispatched or {}).get("dispatched", 0), polled.invocations, polled.failed)


MESSAGE_FILE = re.compile(
    r"^\d{3,}-\d{8}T\d{4}-(sms|email|webhook|pagerduty)-[a-z_]+(-chart(-\d+)?)?\.(txt|eml|html|png)$"
)


class Inbox:
    """Every message the notifier sends, kept in order and written into a folder as its recipient sees it."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.iterdir():  # an earlier run's messages; nothing else of the user's is touched
                if old.is_file() and MESSAGE_FILE.match(old.name):
                    old.unlink()
        self.messages: list[Any] = []

    def add(self, message: Any) -> None:
        self.messages.append(message)
        if self.folder is None:
            return
        stem = f"{len(self.messages):03d}-{message.sent_at:%Y%m%dT%H%M}-{message.channel}-{message.kind}"
        if message.email is None:
            (self.folder / f"{stem}.txt").write_text(message.text + "\n", encoding="utf-8")
            return
        from email import message_from_bytes, policy

        (self.folder / f"{stem}.eml").write_bytes(message.email)
        html, charts = None, 0
        images: dict[str, str] = {}  # the email's cid: references -> the chart files written beside the .html
        for part in message_from_bytes(message.email, policy=policy.default).walk():
            if part.get_content_type() == "text/html":
                html = str(part.get_content())
            elif part.get_content_type() == "image/png":
                name = f"{stem}-chart.png" if charts == 0 else f"{stem}-chart-{charts}.png"
                (self.folder / name).write_bytes(part.get_content())
                images[f"cid:{str(part.get('Content-ID', '')).strip('<>')}"] = name
                charts += 1
        if html is not None:  # opened from the folder, the .html shows its charts (no dead cid: images)
            for reference, name in images.items():
                html = html.replace(reference, name)
            (self.folder / f"{stem}.html").write_text(html, encoding="utf-8")
