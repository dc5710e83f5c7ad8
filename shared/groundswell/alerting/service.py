"""The notifier: turns stored incident transitions and the passing of time into messages, exactly once.

- ``drain``: the detector's outbox (transitions stored in the same transaction as the incident) -> lifecycle
  -> one message per recipient per cycle, grouping the incidents of several brands;
- ``tick`` (every few minutes): ladder rungs and reminders due, held messages whose quiet hours ended, daily
  summaries due, and the outbox again as a backstop;
- ``act`` / ``inbound_sms``: acknowledge or snooze from a signed link or an SMS reply.

Every message is claimed in DynamoDB (incident, step, recipient) before it is sent, so Lambda retries and
concurrent invocations never send it twice; a send that fails is marked failed and retried with the batch
(SQS redelivery, then the dead-letter queue). Domain decisions live in ``lifecycle``; composing in ``sms``,
``email`` and ``summary``; this module only sequences them against the store and the senders.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from groundswell.adapters.dynamo import Store
from groundswell.alerting import links, webhooks
from groundswell.alerting.gsm import segments
from groundswell.alerting.lifecycle import (
    AlertState,
    Dispatch,
    latest_per_incident,
    merge,
    on_tick,
    on_transition,
    rebuilt_state,
    record_sent,
)  # fmt: skip
from groundswell.alerting.notices import AlertKind, IncidentView, Notice, facts
from groundswell.alerting.people import shared_preferences
from groundswell.alerting.senders import (
    DeliveryError,
    OperatorNotices,
    OptedOut,
    PagerDutyEvents,
    SesEmail,
    SmsSender,
    Webhook,
)
from groundswell.http import HttpError
from groundswell.models import Brand, Bucket, Channel, Recipient
from groundswell.observability import count, logger, mask_email, mask_phone, unreadable

SAVE_TRIES = 5
M = TypeVar("M", bound=BaseModel)
FACTS_HISTORY = timedelta(days=8)  # the negative share's "usual" and the summary's 7-day average need 8 days


@dataclass(frozen=True)
class Channels:
    """Where messages go and the limits on them (from the deployment's settings)."""

    sms: SmsSender
    email: SesEmail
    operator: OperatorNotices
    sender_email: str
    link_base: str
    link_keys: Callable[[], Sequence[bytes]]  # the current key first; the previous one after a rotation
    webhook: Webhook = field(default_factory=Webhook)
    pagerduty: PagerDutyEvents = field(default_factory=PagerDutyEvents)
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


class Notifier:
    def __init__(self, store: Store, channels: Channels, on_sent: Callable[[SentMessage], None] | None = None):
        self.store, self.channels, self.on_sent = store, channels, on_sent
        self._reads: dict[tuple[str, datetime, datetime], list[Bucket]] = {}  # buckets read in this invocation

    # ------------------------------------------------------------ entry points

    def drain(self, now: datetime) -> NotifyReport:
        """Handles every transition in the outbox; clears it once their messages are claimed and sent."""
        self._reads.clear()
        return self._drain(None, now)

    def _drain(self, brands: dict[str, Brand] | None, now: datetime) -> NotifyReport:
        report = NotifyReport()
        events = self.store.incidents.outbox()
        if not events:
            return report
        brands = brands if brands is not None else self._watched()
        work: dict[str, tuple[AlertState, int]] = {}
        dispatches: list[Dispatch] = []
        handled = []
        for event in events:
            incident = _readable(IncidentView, event.incident, "outbox event", event.key)
            if incident is None:
                continue  # left in the outbox for a version that can read it
            handled.append(event.key)
            brand = brands.get(event.brand)
            if brand is None:
                logger.warning("incident of a brand no longer watched; not notified", extra={"incident": incident.id})
                continue
            state, version = work.get(incident.id) or self._load(incident)
            state.incident = incident
            dispatches.extend(on_transition(state, event.kind, brand, now))
            work[incident.id] = (state, version)
        report.events = len(events)
        failures = self._deliver(dispatches, {i: s for i, (s, _) in work.items()}, brands, now, report)
        self._save(work)
        self.store.incidents.clear_outbox(handled)
        if failures:
            raise DeliveryFailed(failures)
        return report

    def _watched(self) -> dict[str, Brand]:
        """The enabled brands: a paused brand (``enabled: false``) gets no alerts, reminders or summaries until it
        is enabled again; its incidents wait, and acknowledging them still works."""
        return {b.name: b for b in shared_preferences(self.store.brands.list()) if b.enabled}

    def tick(self, now: datetime) -> NotifyReport:
        """Everything due by time: ladder rungs, reminders, released holds, daily summaries; then the outbox."""
        self._reads.clear()
        report = NotifyReport()
        brands = self._watched()
        work: dict[str, tuple[AlertState, int]] = {}
        dispatches: list[Dispatch] = []
        for incident_id, raw, version in self.store.deliveries.open_alert_states():
            state = _readable(AlertState, raw, "alert state", incident_id)
            brand = brands.get(state.incident.brand) if state else None
            if state is not None and brand is not None:
                dispatches.extend(on_tick(state, brand, now))
                work[state.incident.id] = (state, version)
        failures = self._deliver(dispatches, {i: s for i, (s, _) in work.items()}, brands, now, report)
        failures += self._release_held(brands, work, now, report)
        self._save(work)
        report.summaries = self._summaries(brands.values(), now)
        try:
            drained = self._drain(brands, now)
        except DeliveryFailed as exc:
            failures += exc.count
        else:
            report.events, report.sent = drained.events, report.sent + drained.sent
        if failures:
            raise DeliveryFailed(failures)
        return report

    def act(self, token: str, action: str, now: datetime, snooze_hours: int = 2) -> tuple[int, str]:
        """Acknowledge or snooze through a signed link: (HTTP status, message for the page)."""
        verdict, record = self.check_link(token, now)
        if not verdict.ok or record is None:
            return 403, verdict.reason
        if action not in ("ack", "snooze") or not 1 <= snooze_hours <= 24:
            return 400, "Choose acknowledge, or snooze for 1 to 24 hours."
        done = [self._acknowledge(i, record.recipient_name, action, now, snooze_hours) for i in record.incidents]
        label = "acknowledged" if action == "ack" else f"snoozed for {snooze_hours} h"
        return 200, f"{sum(done)} incident(s) {label} by {record.recipient_name}. Reminders stop" + (
            "." if action == "ack" else " until then."
        )

    def check_link(self, token: str, now: datetime) -> tuple[links.Verdict, links.LinkRecord | None]:
        """Is the link valid, and what does it act on?"""
        parts = links.split_token(token)
        raw = self.store.claims.get_link(parts[0]) if parts else None
        record = links.LinkRecord.model_validate_json(raw) if raw else None
        verdict = links.verify(self.channels.link_keys(), token, record, now)
        if not verdict.ok:
            count("AlertLinkRejected")
        return verdict, record if verdict.ok else None

    def inbound_sms(self, phone: str, body: str, now: datetime) -> str:
        """An SMS reply (``ACK``, ``SNOOZE 2H``, ``STOP``, ``START``) from a known recipient; returns what was done."""
        words = body.strip().upper().split()
        command = words[0] if words else ""
        brands = shared_preferences(self.store.brands.list())
        known = [(b, r) for b in brands for r in b.recipients if r.channel is Channel.SMS and r.address == phone]
        if not known:
            count("InboundSmsUnknown")
            return "unknown sender"
        recipient = known[0][1]
        if command in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"):
            self._opted_out(recipient, [b for b, _ in known])
            return "opted out"
        if command in ("START", "UNSTOP", "YES"):
            self.store.claims.clear_opted_out(recipient.key)
            return "opted in"
        if command not in ("ACK", "SNOOZE"):
            return "not a command"
        hours = 2
        if command == "SNOOZE" and len(words) > 1:
            digits = words[1].removesuffix("H")
            hours = int(digits) if digits.isdigit() and 1 <= int(digits) <= 24 else 2
        brand_names = {b.name for b, _ in known}
        done = 0
        for incident_id, raw, _ in self.store.deliveries.open_alert_states():
            state = _readable(AlertState, raw, "alert state", incident_id)
            if state and state.incident.brand in brand_names and recipient.key in state.told:
                done += self._acknowledge(state.incident.id, recipient.name, command.lower(), now, hours)
        return f"{command.lower()} {done} incident(s)"

    # ------------------------------------------------------------ delivering

    def _deliver(self, dispatches: Sequence[Dispatch], states: dict[str, AlertState], brands: dict[str, Brand],
                 now: datetime, report: NotifyReport) -> int:  # fmt: skip
        """Claims and sends; returns how many sends failed in a way worth retrying."""
        by_recipient: dict[str, list[Dispatch]] = defaultdict(list)
        for dispatch in dispatches:
            by_recipient[dispatch.recipient.key].append(dispatch)
        failures = 0
        for group in by_recipient.values():
            ready = []
            for dispatch in group:
                payload = _payload(dispatch, states[dispatch.incident_id].incident.brand)
                status = self.store.deliveries.claim(dispatch.incident_id, dispatch.step, dispatch.recipient.key,
                                                   payload=payload, held_until=dispatch.not_before)  # fmt: skip
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
                failures += self._send(ready, states, brands, now, report)
        return failures

    def _send(self, group: list[Dispatch], states: dict[str, AlertState], brands: dict[str, Brand], now: datetime,
              report: NotifyReport) -> int:  # fmt: skip
        recipient = group[0].recipient
        latest = latest_per_incident(group)  # one incident once per message, in its latest state
        self._finish([d for d in group if d not in latest], "superseded", "folded into a later message")
        group = latest
        notices = [Notice(kind=d.kind, incident=states[d.incident_id].incident, note=d.note,
                          brand_label=brands[states[d.incident_id].incident.brand].label) for d in group]  # fmt: skip
        try:
            self._send_to(recipient, notices, group, brands, now)
        except DeliveryError as exc:
            self._finish(group, "undeliverable", str(exc))
            report.failed += 1
            count("NotificationsFailed", 1, channel=recipient.channel.value)
            self._tell_operator(f"undeliverable#{recipient.key}#{now:%Y-%m-%d}", "Groundswell: alert undeliverable",
                                f"An alert to {_masked(recipient)} ({recipient.name}) was refused: {exc}.")  # fmt: skip
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

    def _send_to(self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], brands: dict[str, Brand],
                 now: datetime) -> None:  # fmt: skip
        link = self._link(recipient, notices, now)
        kind = notices[0].kind.value if len({n.kind for n in notices}) == 1 else "grouped"
        about = _about(notices)
        if recipient.channel is Channel.SMS:
            if recipient.key in self.store.claims.opted_out([recipient.key]):
                self._fallback(recipient, notices, group, brands, now, link)
                return
            from groundswell.alerting.sms import grouped_text

            text = grouped_text(notices, link, recipient.timezone)
            parts = segments(text)
            policy = brands[notices[0].incident.brand].alerting
            if not self.store.claims.take_sms_budget(recipient.key, f"{now:%Y-%m-%d}", parts,
                                              per_recipient=policy.sms_per_recipient_per_day,
                                              per_day=self.channels.sms_per_day):  # fmt: skip
                count("SmsBudgetExceeded")
                self._tell_operator(f"budget#{recipient.key}#{now:%Y-%m-%d}", "Groundswell: SMS cap reached",
                                    f"The SMS cap for today is reached; {_masked(recipient)} gets email if it has "
                                    "a fallback address, else nothing more today.")  # fmt: skip
                self._fallback(recipient, notices, group, brands, now, link)
                return
            try:
                message_id = self.channels.sms.send(recipient.address, text)
            except OptedOut:
                self._opted_out(recipient, [brands[n.incident.brand] for n in notices])
                self._fallback(recipient, notices, group, brands, now, link)
                return
            except DeliveryError:
                if recipient.fallback_email is None:
                    raise
                self._fallback(recipient, notices, group, brands, now, link)
                return
            logger.info("sms sent", extra={"recipient": _masked(recipient), "segments": parts, "chars": len(text),
                                           "kind": kind, "incidents": [i for i, _ in about]})  # fmt: skip
            count("SmsSegments", parts)
            self._finish_sent(group, message_id)
            self._record(SentMessage("sms", _masked(recipient), kind, about, now, text, parts))
        elif recipient.channel is Channel.EMAIL:
            self._email(recipient.address, recipient, notices, group, now, link, kind)
        elif recipient.channel is Channel.PAGERDUTY:
            self._page(recipient, notices, group, now, link, kind)
        else:
            self._webhook(recipient, notices, group, now, link, kind)

    def _webhook(self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], now: datetime, link: str,
                 kind: str) -> None:  # fmt: skip
        from groundswell.alerting.email import compose

        text = compose(notices, links={n.incident.id: link for n in notices}, timezone=recipient.timezone).text
        shape = webhooks.format_for(recipient.address, recipient.webhook_format)
        if shape is webhooks.WebhookFormat.SLACK:
            payload = webhooks.slack_payload(text, link)
        elif shape is webhooks.WebhookFormat.TEAMS:
            payload = webhooks.teams_payload(text, link)
        else:
            payload = webhooks.generic_payload(text, [(n.incident.id, n.incident.severity, n.kind.value)
                                                      for n in notices])  # fmt: skip
        self.channels.webhook.send(recipient.address, payload)
        self._finish_sent(group, "webhook")
        self._record(SentMessage("webhook", _masked(recipient), kind, _about(notices), now, text))

    def _page(self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], now: datetime, link: str,
              kind: str) -> None:  # fmt: skip
        """One PagerDuty event per incident: its alert is triggered (again: PagerDuty dedups on the incident id)
        until the all clear resolves it."""
        for notice in notices:
            action = "resolve" if notice.kind is AlertKind.RESOLVED else "trigger"
            summary = webhooks.pagerduty_summary(notice.brand_label, notice.incident)
            details = {"observed": notice.incident.observed, "expected": round(notice.incident.expected, 1),
                       "window_minutes": notice.incident.window_minutes, "drivers": list(notice.incident.drivers),
                       "incident": notice.incident.id}  # fmt: skip
            self.channels.pagerduty.send(webhooks.pagerduty_event(
                action, routing_key=recipient.address, incident_id=notice.incident.id, summary=summary,
                severity=notice.incident.severity, brand=notice.incident.brand, at=now, link=link, details=details,
            ))  # fmt: skip
        self._finish_sent(group, "pagerduty")
        self._record(SentMessage("pagerduty", _masked(recipient), kind, _about(notices), now,
                                 "; ".join(f"{n.kind.value} {n.incident.id}" for n in notices)))  # fmt: skip

    def _email(self, address: str, recipient: Recipient, notices: list[Notice], group: list[Dispatch], now: datetime,
               link: str, kind: str) -> None:  # fmt: skip
        from groundswell.alerting.email import compose

        contents = [self._email_content(n, recipient.timezone, now) for n in notices]
        notices = [notice for notice, _ in contents]
        charts = {notice.incident.id: chart for notice, chart in contents}
        reason = f"You receive this as {recipient.role.value.replace('_', ' ')} ({recipient.name})."
        email = compose(notices, links={n.incident.id: link for n in notices}, timezone=recipient.timezone,
                        charts=charts, reason=reason)  # fmt: skip
        raw = bytes(email.mime(sender=self.channels.sender_email, to=address))
        message_id = self.channels.email.send(self.channels.sender_email, address, raw)
        logger.info("email sent", extra={"recipient": mask_email(address), "kind": kind, "bytes": len(raw)})
        self._finish_sent(group, message_id)
        self._record(SentMessage("email", mask_email(address), kind, _about(notices), now,
                                 email.text, email=raw))  # fmt: skip

    def _fallback(self, recipient: Recipient, notices: list[Notice], group: list[Dispatch], brands: dict[str, Brand],
                  now: datetime, link: str) -> None:  # fmt: skip
        if recipient.fallback_email is None:
            self._finish(group, "undeliverable", "SMS opted out or capped; no fallback email")
            count("NotificationsFailed", 1, channel="sms")
            return
        kind = notices[0].kind.value if len({n.kind for n in notices}) == 1 else "grouped"
        self._email(recipient.fallback_email, recipient, notices, group, now, link, kind)

    def _opted_out(self, recipient: Recipient, brands: Sequence[Brand]) -> None:
        if self.store.claims.mark_opted_out(recipient.key):
            count("SmsOptedOut")
            fallback = f"alerts now go to {mask_email(recipient.fallback_email)}" if recipient.fallback_email else (
                "they receive NO alerts until they text START or get another channel")  # fmt: skip
            self.channels.operator.tell("Groundswell: SMS recipient opted out",
                                        f"{recipient.name} ({_masked(recipient)}) of "
                                        f"{', '.join(b.label for b in brands)} replied STOP; {fallback}.")  # fmt: skip

    def _tell_operator(self, once_key: str, subject: str, message: str) -> None:
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
            logger.error("message sent but not recorded as sent; it is not sent again",
                         extra={"recipient": group[0].recipient.key, "error": error})  # fmt: skip

    def _finish(self, group: list[Dispatch], status: str, detail: str) -> None:
        for dispatch in group:
            self.store.deliveries.finish(dispatch.incident_id, dispatch.step, dispatch.recipient.key, status, detail)

    def _record(self, message: SentMessage) -> None:
        if self.on_sent is not None:
            self.on_sent(message)

    # ------------------------------------------------------------ content

    def _email_content(self, notice: Notice, timezone: str, now: datetime) -> tuple[Notice, bytes]:
        """The notice with its facts and sample posts, and its 48-hour chart (the email needs them; the SMS does
        not). Buckets are read once per incident per invocation, whoever the email is for."""
        from groundswell.alerting.chart import hourly_series, render_png
        from groundswell.alerting.samples import choose_samples

        incident = notice.incident
        peak_end = incident.peak_at + timedelta(minutes=5)
        end = max(now, incident.peak_at + timedelta(hours=1))
        buckets = self._recent_buckets(incident.brand, end, earliest=peak_end - FACTS_HISTORY)
        sampled = timedelta(minutes=min(max(incident.window_minutes, 60), 240))  # a long run: its last 4 hours
        mentions = self.store.mentions.mentions(incident.brand, peak_end - sampled, peak_end)
        enriched = notice.model_copy(update={"samples": tuple(choose_samples(mentions, incident.drivers)),
                                             "facts": facts(buckets, peak_end)})  # fmt: skip
        title = f"{notice.brand_label}: negative mentions per hour, last 48 hours"
        chart = render_png(hourly_series(buckets, end), title=title, timezone=timezone, opened_at=incident.opened_at)
        return enriched, chart

    def _recent_buckets(self, brand: str, end: datetime, earliest: datetime | None = None) -> list[Bucket]:
        """The brand's buckets for the chart's span before ``end`` (from ``earliest`` if that is sooner)."""
        from groundswell.alerting.chart import HISTORY_DAYS, HOURS

        start = end - timedelta(hours=HOURS, days=HISTORY_DAYS)
        start = min(start, earliest) if earliest else start
        key = (brand, start, end)
        if key not in self._reads:
            self._reads[key] = self.store.mentions.buckets(brand, start, end)
        return self._reads[key]

    def _link(self, recipient: Recipient, notices: list[Notice], now: datetime) -> str:
        record = links.LinkRecord(recipient=recipient.key, recipient_name=recipient.name,
                                  incidents=tuple(n.incident.id for n in notices),
                                  brands=tuple(dict.fromkeys(n.incident.brand for n in notices)),
                                  expires_at=now + self.channels.link_ttl)  # fmt: skip
        if not self.channels.link_base.startswith("https://") and not self.channels.link_base.startswith("http://"):
            raise ValueError("ALERT_LINK_BASE must be the http(s) URL of the acknowledgement endpoint")
        link_id, token = links.new_token(self.channels.link_keys()[0], record)
        self.store.claims.put_link(link_id, record.model_dump_json(), record.expires_at)
        return links.url(self.channels.link_base, token)

    # ------------------------------------------------------------ holds, summaries, acknowledgement

    def _release_held(self, brands: dict[str, Brand], work: dict[str, tuple[AlertState, int]], now: datetime,
                      report: NotifyReport) -> int:  # fmt: skip
        """Held messages whose quiet hours ended, one message per recipient with each incident's latest state
        (an incident that opened and resolved in the night arrives as one all clear)."""
        groups: dict[str, list[Dispatch]] = defaultdict(list)
        for held_key, payload in self.store.deliveries.due_held(now):
            item = json.loads(payload)
            brand = brands.get(item["brand"])
            recipient = next((r for r in brand.recipients if r.key == item["recipient"]), None) if brand else None
            if recipient is None or (item["incident"] not in work and not self._load_into(item["incident"], work)):
                self.store.deliveries.release_held(held_key, item["incident"], item["step"], item["recipient"])
                continue
            if self.store.deliveries.release_held(held_key, item["incident"], item["step"], item["recipient"]):
                groups[recipient.key].append(Dispatch(recipient, item["incident"], AlertKind(item["kind"]),
                                                      item["step"], item.get("note", "")))  # fmt: skip
        states = {i: s for i, (s, _) in work.items()}
        return sum(self._send(group, states, brands, now, report) for group in groups.values())

    def _summaries(self, brands: Iterable[Brand], now: datetime) -> int:
        from groundswell.alerting.summary import brand_day, summary_due, summary_text

        brand_list = list(brands)
        by_recipient: dict[str, tuple[Recipient, list[Brand]]] = {}
        for brand in brand_list:
            for recipient in brand.recipients:
                by_recipient.setdefault(recipient.key, (recipient, []))[1].append(brand)
        sent = 0
        for key, (recipient, watched) in by_recipient.items():
            day = summary_due(recipient, now)
            if day is None or not self.store.claims.claim_once(
                f"summary#{key}#{day.isoformat()}", ttl_seconds=3 * 86400
            ):
                continue
            days = []
            for brand in watched:
                buckets = self._recent_buckets(brand.name, now, earliest=now - FACTS_HISTORY)
                incidents = [i for raw in self.store.incidents.history(brand.name)
                             if (i := _readable(IncidentView, raw, "incident", brand.name))]  # fmt: skip
                days.append(brand_day(brand.label, buckets, incidents, now))
            text = summary_text(days, day)
            try:
                if recipient.channel is Channel.SMS and recipient.key not in self.store.claims.opted_out([key]):
                    message_id = self.channels.sms.send(recipient.address, text)
                    self._record(SentMessage("sms", _masked(recipient), "summary", (), now, text, segments(text)))
                elif recipient.channel is Channel.EMAIL or recipient.fallback_email:
                    message_id = self._digest(recipient, watched, text, now)
                else:
                    continue
            except (OptedOut, DeliveryError) as exc:
                logger.warning("daily summary not delivered", extra={"recipient": key, "error": str(exc)})
                continue
            logger.info("daily summary sent", extra={"recipient": key, "segments": segments(text), "id": message_id})
            sent += 1
        return sent

    def _digest(self, recipient: Recipient, brands: Sequence[Brand], text: str, now: datetime) -> str:
        """The daily digest email: the summary text and one 48-hour chart per brand."""
        from email.message import EmailMessage

        from groundswell.alerting.chart import hourly_series, render_png

        address = recipient.address if recipient.channel is Channel.EMAIL else str(recipient.fallback_email)
        message = EmailMessage()
        message["Subject"] = text.split(":", 1)[0]
        message["From"], message["To"] = self.channels.sender_email, address
        message.set_content(text + "\n")
        for brand in brands:
            buckets = self._recent_buckets(brand.name, now, earliest=now - FACTS_HISTORY)
            png = render_png(hourly_series(buckets, now), title=f"{brand.label}: negative mentions per hour",
                             timezone=recipient.timezone)  # fmt: skip
            message.add_attachment(png, maintype="image", subtype="png", filename=f"{brand.name}-48h.png")
        raw = bytes(message)
        self._record(SentMessage("email", mask_email(address), "summary", (), now, text, email=raw))
        return self.channels.email.send(self.channels.sender_email, address, raw)

    def _acknowledge_pages(self, state: AlertState) -> None:
        """Acknowledged here, so acknowledged in PagerDuty too (its alert stops escalating there); a failure is
        logged and counted, never undoes the acknowledgement."""
        brand = self.store.brands.get(state.incident.brand)
        for recipient in brand.recipients if brand else []:
            if recipient.channel is not Channel.PAGERDUTY or recipient.key not in state.told:
                continue
            event = webhooks.pagerduty_event("acknowledge", routing_key=recipient.address,
                                             incident_id=state.incident.id)  # fmt: skip
            try:
                self.channels.pagerduty.send(event)
            except (HttpError, DeliveryError) as exc:
                count("NotificationsFailed", 1, channel="pagerduty")
                logger.warning("PagerDuty acknowledge failed", extra={"recipient": recipient.key, "error": str(exc)})

    def _acknowledge(self, incident_id: str, who: str, action: str, now: datetime, snooze_hours: int) -> bool:
        for _ in range(SAVE_TRIES):
            stored = self.store.deliveries.alert_state(incident_id)
            if stored is None:
                return False
            state = _readable(AlertState, stored.state, "alert state", incident_id)
            if state is None or state.resolved:
                return False
            if action == "ack":
                state.acked_by, state.acked_at = state.acked_by or who, state.acked_at or now
            else:
                state.snoozed_until = now + timedelta(hours=snooze_hours)
            if self.store.deliveries.save_alert_state(
                incident_id, state.model_dump_json(), stored.version, resolved=False
            ):
                logger.info("incident " + action, extra={"incident": incident_id})
                count("IncidentsAcknowledged" if action == "ack" else "IncidentsSnoozed")
                if action == "ack":
                    self._acknowledge_pages(state)
                return True
        return False

    # ------------------------------------------------------------ state

    def _load(self, incident: IncidentView) -> tuple[AlertState, int]:
        stored = self.store.deliveries.alert_state(incident.id)
        if stored is None:
            return AlertState(incident=incident), 0
        state = _readable(AlertState, stored.state, "alert state", incident.id)
        if state is None:  # rebuilt from the messages sent; the delivery claims keep each message to one send
            state = rebuilt_state(incident, self.store.deliveries.sent(incident.id))
        return state, stored.version

    def _load_into(self, incident_id: str, work: dict[str, tuple[AlertState, int]]) -> bool:
        stored = self.store.deliveries.alert_state(incident_id)
        state = _readable(AlertState, stored.state, "alert state", incident_id) if stored else None
        if state is not None and stored is not None:
            work[incident_id] = (state, stored.version)
        return state is not None

    def _save(self, work: dict[str, tuple[AlertState, int]]) -> None:
        """Saves each state; on a concurrent change, merges with the stored one (who was told: union; ack and
        snooze: theirs; resolved: either) and tries again."""
        for incident_id, (state, version) in work.items():
            for _ in range(SAVE_TRIES):
                if self.store.deliveries.save_alert_state(
                    incident_id, state.model_dump_json(), version, resolved=state.resolved
                ):
                    break
                stored = self.store.deliveries.alert_state(incident_id)
                if stored is None:
                    version = 0
                    continue
                theirs = _readable(AlertState, stored.state, "alert state", incident_id)
                state = merge(state, theirs) if theirs else state  # an unreadable one is replaced
                version = stored.version
            else:
                logger.error("alert state not saved after retries", extra={"incident": incident_id})


class DeliveryFailed(RuntimeError):
    """Some sends failed transiently; raising makes SQS redeliver (claims keep the rest from repeating)."""

    def __init__(self, failures: int):
        super().__init__(f"{failures} alert deliveries failed; they are retried with the batch")
        self.count = failures


def _about(notices: Sequence[Notice]) -> tuple[tuple[str, str], ...]:
    return tuple((n.incident.id, n.kind.value) for n in notices)


def _payload(dispatch: Dispatch, brand: str) -> str:
    return json.dumps({"brand": brand, "incident": dispatch.incident_id, "kind": dispatch.kind.value,
                       "step": dispatch.step, "recipient": dispatch.recipient.key, "note": dispatch.note})  # fmt: skip


def _masked(recipient: Recipient) -> str:
    if recipient.channel is Channel.SMS:
        return mask_phone(recipient.address)
    if recipient.channel is Channel.EMAIL:
        return mask_email(recipient.address)
    if recipient.channel is Channel.PAGERDUTY:
        return f"pagerduty:…{recipient.address[-4:]}"
    return recipient.address.split("/")[2] if recipient.address.count("/") >= 2 else "webhook"


def _readable(model: type[M], raw: str, what: str, key: str) -> M | None:
    """``raw`` parsed as ``model``, or None after logging and counting it (``UnreadableItems``): one item written
    by another version or edited by hand must not stop the notifier for every incident."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        unreadable(what.replace(" ", "_"), f"{what} unreadable: skipped and kept", exc, key=key)
        return None
