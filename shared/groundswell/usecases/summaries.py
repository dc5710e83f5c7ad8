"""The daily summary: once per recipient and day, at their hour, in their zone; by SMS, or an email digest
with one 48-hour chart per brand."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage

from groundswell.domain.alerting.gsm import segments
from groundswell.domain.alerting.notices import IncidentView
from groundswell.domain.models import Brand, Channel, Recipient
from groundswell.domain.ports import AlertingStore, DeliveryError, OptedOut
from groundswell.observability import logger, mask_email
from groundswell.usecases.alert_states import AlertStates, readable
from groundswell.usecases.content import FACTS_HISTORY
from groundswell.usecases.deliver import Deliverer
from groundswell.usecases.messages import SentMessage, masked


def send_summaries(deliverer: Deliverer, brands: Iterable[Brand], now: datetime) -> int:
    """Sends every daily summary due at ``now``; returns how many were sent."""
    from groundswell.domain.alerting.summary import brand_day, summary_due, summary_text

    store, channels = deliverer.store, deliverer.channels
    by_recipient: dict[str, tuple[Recipient, list[Brand]]] = {}
    for brand in brands:
        for recipient in brand.recipients:
            by_recipient.setdefault(recipient.key, (recipient, []))[1].append(brand)
    sent = 0
    for key, (recipient, watched) in by_recipient.items():
        day = summary_due(recipient, now)
        if day is None or not store.claims.claim_once(f"summary#{key}#{day.isoformat()}", ttl_seconds=3 * 86400):
            continue
        days = []
        for brand in watched:
            buckets = deliverer.content.recent_buckets(brand.name, now, earliest=now - FACTS_HISTORY)
            stored = store.incidents.history(brand.name)
            incidents = [i for raw in stored if (i := readable(IncidentView, raw, "incident", brand.name))]
            recent = [i for i in incidents if i.resolved_at is None or i.resolved_at >= now - timedelta(days=1)]
            days.append(brand_day(brand.label, buckets, incidents, now, calls(store, recent)))
        text = summary_text(days, day)
        try:
            if recipient.channel is Channel.SMS and recipient.key not in store.claims.opted_out([key]):
                message_id = channels.sms.send(recipient.address, text)
                deliverer.record(SentMessage("sms", masked(recipient), "summary", (), now, text, segments(text)))
            elif recipient.channel is Channel.EMAIL or recipient.fallback_email:
                message_id = _digest(deliverer, recipient, watched, text, now)
            else:
                continue
        except (OptedOut, DeliveryError) as exc:
            logger.warning("daily summary not delivered", extra={"recipient": key, "error": str(exc)})
            continue
        logger.info("daily summary sent", extra={"recipient": key, "segments": segments(text), "id": message_id})
        sent += 1
    return sent


def calls(store: AlertingStore, incidents: Sequence[IncidentView]) -> dict[str, str]:
    """Incident id -> a person's verdict on it from the incident page ("not a crisis per Dana")."""
    found, states = {}, AlertStates(store.deliveries)
    for incident in incidents:
        state = states.get(incident.id)
        if state is not None and state.verdict is not None:
            found[incident.id] = f"{state.verdict.call} per {state.verdict.by}"
    return found


def _digest(deliverer: Deliverer, recipient: Recipient, brands: Sequence[Brand], text: str, now: datetime) -> str:
    """The daily digest email: the summary text and one 48-hour chart per brand."""
    from groundswell.domain.alerting.chart import hourly_series, render_png

    channels = deliverer.channels
    address = recipient.address if recipient.channel is Channel.EMAIL else str(recipient.fallback_email)
    message = EmailMessage()
    message["Subject"] = text.split(":", 1)[0]
    message["From"], message["To"] = channels.sender_email, address
    message.set_content(text + "\n")
    for brand in brands:
        buckets = deliverer.content.recent_buckets(brand.name, now, earliest=now - FACTS_HISTORY)
        title = f"{brand.label}: negative mentions per hour"
        png = render_png(hourly_series(buckets, now), title=title, timezone=recipient.timezone)
        message.add_attachment(png, maintype="image", subtype="png", filename=f"{brand.name}-48h.png")
    raw = bytes(message)
    deliverer.record(SentMessage("email", mask_email(address), "summary", (), now, text, email=raw))
    return channels.email.send(channels.sender_email, address, raw)
