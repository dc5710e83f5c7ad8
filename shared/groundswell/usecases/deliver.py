"""Delivering: each message claimed in DynamoDB (incident, step, recipient) before it is sent, so Lambda
retries and concurrent invocations never send it twice; then sent on its recipient's channel (SMS within the
cost caps and with the STOP fallback, email with its chart and sample posts, webhooks, PagerDuty)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from groundswell.domain.alerting.gsm import segments
from groundswell.domain.alerting.lifecycle import AlertState, Dispatch, latest_per_incident, record_sent
from groundswell.domain.alerting.notices import Notice
from groundswell.domain.models import Brand, Channel, Recipient
from groundswell.domain.ports import AlertingStore, Claims, DeliveryError, OperatorNotifier, OptedOut
from groundswell.observability import count, logger, mask_email
from groundswell.usecases import hooks
from groundswell.usecases.content import Content
from groundswell.usecases.messages import (
    Channels,
    NotifyReport,
    SentMessage,
    about,
    claim_payload,
    kind_of,
    masked,
)


class Deliverer:
    def __init__(self, store: AlertingStore, channels: Channels):
        self.store, self.channels = store, channels
        self.content = Content(store, channels)
        self.on_sent: Callable[[SentMessage], None] | None = None

    def start(self) -> None:
        """A new invocation: buckets are read afresh."""
        self.content.start()

    def deliver(
        self,
        dispatches: Sequence[Dispatch],
        states: dict[str, AlertState],
        brands: dict[str, Brand],
        now: datetime,
        report: NotifyReport,
    ) -> int:
        """Claims and sends; returns how many sends failed in a way worth retrying."""
        by_recipient: dict[str, list[Dispatch]] = defaultdict(list)
        for dispatch in dispatches:
            by_recipient[dispatch.recipient.key].append(dispatch)
        failures = 0
        for group in by_recipient.values():
            ready = []
            for dispatch in group:
                payload = claim_payload(dispatch, states[dispatch.incident_id].incident.brand, now)
                status = self.store.deliveries.claim(
                    dispatch.incident_id,
                    dispatch.step,
                    dispatch.recipient.key,
                    payload=payload,
                    held_until=dispatch.not_before,
                )
                if status == "claimed" and dispatch.not_before:
                    report.held += 1  # counted as told at its release: reminders start from then
                    record_sent(states[dispatch.incident_id], dispatch, dispatch.not_before)
                elif status == "claimed":
                    ready.append(dispatch)
                else:
                    report.skipped += 1  # already sent, held or in flight elsewhere
                    if status in ("sent", "held"):
                        record_sent(states[dispatch.incident_id], dispatch, now)
            if ready:
                failures += self.send(ready, states, brands, now, report)
        return failures

    def send(
        self,
        group: list[Dispatch],
        states: dict[str, AlertState],
        brands: dict[str, Brand],
        now: datetime,
        report: NotifyReport,
    ) -> int:
        """Sends one message to one recipient about the claimed ``group``; 1 when it failed worth retrying."""
        recipient = group[0].recipient
        latest = latest_per_incident(group)  # one incident once per message, in its latest state
        self._finish([d for d in group if d not in latest], "superseded", "folded into a later message")
        group = latest
        notices = []
        for d in group:
            incident = states[d.incident_id].incident
            notices.append(
                Notice(kind=d.kind, incident=incident, note=d.note, brand_label=brands[incident.brand].label)
            )
        try:
            self._send_to(recipient, notices, group, brands, now)
        except DeliveryError as exc:
            self._finish(group, "undeliverable", str(exc))
            report.failed += 1
            count("NotificationsFailed", 1, channel=recipient.channel.value)
            self.tell_operator(
                f"undeliverable#{recipient.key}#{now:%Y-%m-%d}",
                "Groundswell: alert undeliverable",
                f"An alert to {masked(recipient)} ({recipient.name}) was refused: {exc}.",
            )
            return 0
        except Exception as exc:
            self._finish(group, "failed", f"{type(exc).__name__}: {exc}")
            report.failed += 1
            count("NotificationsFailed", 1, channel=recipient.channel.value)
            logger.warning("alert send failed; will retry", extra={"recipient": recipient.key, "error": str(exc)})
            return 1
        for dispatch in group:
            record_sent(states[dispatch.incident_id], dispatch, now)
        report.sent += 1
        return 0

    def _send_to(
        self,
        recipient: Recipient,
        notices: list[Notice],
        group: list[Dispatch],
        brands: dict[str, Brand],
        now: datetime,
    ) -> None:
        notices = [  # the numbers as of sending
            self.content.with_facts(n, now, brands[n.incident.brand].peers if n.incident.brand in brands else ())
            for n in notices
        ]
        link = self.content.link(recipient, notices, now)
        kind = kind_of(notices)
        if recipient.channel is Channel.SMS:
            self._sms(recipient, notices, group, brands, now, link)
        elif recipient.channel is Channel.EMAIL:
            self._email(recipient.address, recipient, notices, group, now, link, kind)
        elif recipient.channel is Channel.PAGERDUTY:
            self._page(recipient, notices, group, now, link, kind)
        else:
            self._webhook(recipient, notices, group, now, link, kind)

    def _sms(
        self,
        recipient: Recipient,
        notices: list[Notice],
        group: list[Dispatch],
        brands: dict[str, Brand],
        now: datetime,
        link: str,
    ) -> None:
        """An SMS within the day's caps; email instead (when the recipient has a fallback address) when the
        number opted out, the cap is reached or the provider refuses it."""
        from groundswell.domain.alerting.sms import grouped_text

        if recipient.key in self.store.claims.opted_out([recipient.key]):
            self._fallback(recipient, notices, group, now, link)
            return
        text = grouped_text(notices, link, recipient.timezone)
        parts = segments(text)
        policy = brands[notices[0].incident.brand].alerting
        day = f"{now:%Y-%m-%d}"
        if not self.store.claims.take_sms_budget(
            recipient.key, day, parts, per_recipient=policy.sms_per_recipient_per_day, per_day=self.channels.sms_per_day
        ):
            count("SmsBudgetExceeded")
            self.tell_operator(
                f"budget#{recipient.key}#{day}",
                "Groundswell: SMS cap reached",
                f"The SMS cap for today is reached; {masked(recipient)} gets email if it has "
                "a fallback address, else nothing more today.",
            )
            self._fallback(recipient, notices, group, now, link)
            return
        try:
            message_id = self.channels.sms.send(recipient.address, text)
        except OptedOut:
            opted_out(self.store.claims, self.channels.operator, recipient, [brands[n.incident.brand] for n in notices])
            self._fallback(recipient, notices, group, now, link)
            return
        except DeliveryError:
            if recipient.fallback_email is None:
                raise
            self._fallback(recipient, notices, group, now, link)
            return
        incidents = about(notices)
        logger.info(
            "sms sent",
            extra={
                "recipient": masked(recipient),
                "segments": parts,
                "chars": len(text),
                "kind": kind_of(notices),
                "incidents": [i for i, _ in incidents],
            },
        )
        count("SmsSegments", parts)
        self._finish_sent(group, message_id)
        self.record(SentMessage("sms", masked(recipient), kind_of(notices), incidents, now, text, parts))

    def _webhook(
        self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], now: datetime, link: str, kind: str
    ) -> None:
        text = hooks.post_webhook(self.channels.webhook, recipient, notices, link)
        self._finish_sent(group, "webhook")
        self.record(SentMessage("webhook", masked(recipient), kind, about(notices), now, text))

    def _page(
        self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], now: datetime, link: str, kind: str
    ) -> None:
        text = hooks.send_pages(self.channels.pagerduty, recipient, notices, now, link)
        self._finish_sent(group, "pagerduty")
        self.record(SentMessage("pagerduty", masked(recipient), kind, about(notices), now, text))

    def _email(
        self,
        address: str,
        recipient: Recipient,
        notices: list[Notice],
        group: list[Dispatch],
        now: datetime,
        link: str,
        kind: str,
    ) -> None:
        from groundswell.domain.alerting.email import compose

        contents = [self.content.email_content(n, recipient.timezone, now) for n in notices]
        notices = [notice for notice, _ in contents]
        charts = {notice.incident.id: chart for notice, chart in contents}
        reason = f"You receive this as {recipient.role.value.replace('_', ' ')} ({recipient.name})."
        urls = {n.incident.id: link for n in notices}
        email = compose(notices, links=urls, timezone=recipient.timezone, charts=charts, reason=reason)
        raw = bytes(email.mime(sender=self.channels.sender_email, to=address))
        message_id = self.channels.email.send(self.channels.sender_email, address, raw)
        logger.info("email sent", extra={"recipient": mask_email(address), "kind": kind, "bytes": len(raw)})
        self._finish_sent(group, message_id)
        self.record(SentMessage("email", mask_email(address), kind, about(notices), now, email.text, email=raw))

    def _fallback(
        self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], now: datetime, link: str
    ) -> None:
        if recipient.fallback_email is None:
            self._finish(group, "undeliverable", "SMS opted out or capped; no fallback email")
            count("NotificationsFailed", 1, channel="sms")
            return
        self._email(recipient.fallback_email, recipient, notices, group, now, link, kind_of(notices))

    def tell_operator(self, once_key: str, subject: str, message: str) -> None:
        if self.store.claims.claim_once(f"operator#{once_key}", ttl_seconds=2 * 86400):
            self.channels.operator.tell(subject, message)

    def _finish_sent(self, group: list[Dispatch], message_id: str) -> None:
        """Records messages the provider accepted. A failure here must not mark them failed (a retry would send
        them again): the claim stays, so no retry sends them twice; counted as ``DeliveryRecordFailed``."""
        try:
            self._finish(group, "sent", message_id)
        except Exception as exc:
            count("DeliveryRecordFailed", len(group))
            error = f"{type(exc).__name__}: {exc}"[:300]
            logger.error(
                "message sent but not recorded as sent; it is not sent again",
                extra={"recipient": group[0].recipient.key, "error": error},
            )

    def _finish(self, group: list[Dispatch], status: str, detail: str) -> None:
        for dispatch in group:
            self.store.deliveries.finish(dispatch.incident_id, dispatch.step, dispatch.recipient.key, status, detail)

    def record(self, message: SentMessage) -> None:
        if self.on_sent is not None:
            self.on_sent(message)


def opted_out(claims: Claims, operator: OperatorNotifier, recipient: Recipient, brands: Sequence[Brand]) -> None:
    """The recipient replied STOP: remembered, and the operator told once."""
    if claims.mark_opted_out(recipient.key):
        count("SmsOptedOut")
        if recipient.fallback_email:
            fallback = f"alerts now go to {mask_email(recipient.fallback_email)}"
        else:
            fallback = "they receive NO alerts until they text START or get another channel"
        operator.tell(
            "Groundswell: SMS recipient opted out",
            f"{recipient.name} ({masked(recipient)}) of {', '.join(b.label for b in brands)} replied STOP; {fallback}.",
        )
