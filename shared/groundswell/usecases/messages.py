"""What the notifier's use cases pass around: where messages go (``Channels``), what was sent, what a run did."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from groundswell.domain.alerting import links
from groundswell.domain.alerting.lifecycle import Dispatch
from groundswell.domain.alerting.notices import Notice
from groundswell.domain.models import Channel, Recipient
from groundswell.domain.ports import EmailSender, EventSender, OperatorNotifier, SmsSender, WebhookSender
from groundswell.observability import mask_email, mask_phone


@dataclass(frozen=True)
class Channels:
    """Where messages go and the limits on them (from the deployment's settings)."""

    sms: SmsSender
    email: EmailSender
    operator: OperatorNotifier
    webhook: WebhookSender
    pagerduty: EventSender
    sender_email: str
    link_base: str
    link_keys: Callable[[], Sequence[bytes]]  # the current key first; the previous one after a rotation
    sms_per_day: int = 500
    link_ttl: timedelta = links.LINK_TTL


@dataclass(frozen=True)
class SentMessage:
    """A record of one message sent (the demo and replay write these out)."""

    channel: str
    recipient: str  # masked
    kind: str  # open | escalate | reminder | resolved | grouped (several kinds) | summary
    about: tuple[tuple[str, str], ...]  # (incident id, kind) for each incident in the message
    sent_at: datetime
    text: str
    segments: int = 0
    email: bytes | None = None


@dataclass
class NotifyReport:
    events: int = 0
    sent: int = 0
    held: int = 0
    skipped: int = 0
    failed: int = 0
    summaries: int = 0


class DeliveryFailed(RuntimeError):
    """Some sends failed transiently; raising makes SQS redeliver (claims keep the rest from repeating)."""

    def __init__(self, failures: int):
        super().__init__(f"{failures} alert deliveries failed; they are retried with the batch")
        self.count = failures


def masked(recipient: Recipient) -> str:
    """The recipient's address as logs and records may show it."""
    if recipient.channel is Channel.SMS:
        return mask_phone(recipient.address)
    if recipient.channel is Channel.EMAIL:
        return mask_email(recipient.address)
    if recipient.channel is Channel.PAGERDUTY:
        return f"pagerduty:…{recipient.address[-4:]}"
    return recipient.address.split("/")[2] if recipient.address.count("/") >= 2 else "webhook"


def kind_of(notices: Sequence[Notice]) -> str:
    return notices[0].kind.value if len({n.kind for n in notices}) == 1 else "grouped"


def about(notices: Sequence[Notice]) -> tuple[tuple[str, str], ...]:
    return tuple((n.incident.id, n.kind.value) for n in notices)


def claim_payload(dispatch: Dispatch, brand: str, now: datetime) -> str:
    """What a delivery claim records: enough to send a held message later, and when it was claimed (the
    notifier's clock: the incident page's timeline)."""
    return json.dumps(
        {
            "at": (dispatch.not_before or now).isoformat(),
            "brand": brand,
            "incident": dispatch.incident_id,
            "kind": dispatch.kind.value,
            "step": dispatch.step,
            "recipient": dispatch.recipient.key,
            "note": dispatch.note,
        }
    )
