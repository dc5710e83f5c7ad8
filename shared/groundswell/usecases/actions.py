"""What people do about an alert: acknowledge or snooze from a signed link, or by SMS reply (``ACK``,
``SNOOZE 2H``, ``STOP``, ``START``). Acknowledged here means acknowledged in PagerDuty too."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from groundswell.domain.alerting import links, webhooks
from groundswell.domain.alerting.lifecycle import AlertState
from groundswell.domain.alerting.people import shared_preferences
from groundswell.domain.models import Channel
from groundswell.observability import count, logger
from groundswell.usecases.alert_states import AlertStates
from groundswell.usecases.deliver import Deliverer, opted_out

ACTIONS = {"ack": "acknowledged", "snooze": "snoozed", "resolve": "marked resolved", "dismiss": "marked not a crisis"}
STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
START_WORDS = ("START", "UNSTOP", "YES")


class Outcome(enum.Enum):
    DONE = "done"
    REFUSED = "refused"  # the link is not valid (forged, expired, unknown)
    INVALID = "invalid"  # a valid link, an action or duration that is not offered


@dataclass(frozen=True)
class ActionResult:
    outcome: Outcome
    message: str  # for the page


class Actions:
    def __init__(self, deliverer: Deliverer, states: AlertStates):
        self._deliverer, self._states = deliverer, states
        self._store, self._channels = deliverer.store, deliverer.channels

    def act(self, token: str, action: str, now: datetime, snooze_hours: int = 2) -> ActionResult:
        """Acknowledge (``ack``), snooze, resolve or dismiss (not a crisis) through a signed link."""
        verdict, record = self.check_link(token, now)
        if not verdict.ok or record is None:
            return ActionResult(Outcome.REFUSED, verdict.reason)
        if action not in ACTIONS or not 1 <= snooze_hours <= 24:
            return ActionResult(
                Outcome.INVALID, "Choose acknowledge, snooze for 1 to 24 hours, resolved or not a crisis."
            )
        done = sum(self._acknowledge(i, record.recipient_name, action, now, snooze_hours) for i in record.incidents)
        if not done:
            return ActionResult(Outcome.DONE, "Nothing changed: the incident is already over or decided.")
        label = ACTIONS[action] if action != "snooze" else f"snoozed for {snooze_hours} h"
        until = " until then." if action == "snooze" else "."
        return ActionResult(
            Outcome.DONE, f"{done} incident(s) {label} by {record.recipient_name}. Reminders stop{until}"
        )

    def check_link(self, token: str, now: datetime) -> tuple[links.Verdict, links.LinkRecord | None]:
        """Is the link valid, and what does it act on?"""
        parts = links.split_token(token)
        raw = self._store.claims.get_link(parts[0]) if parts else None
        record = links.LinkRecord.model_validate_json(raw) if raw else None
        verdict = links.verify(self._channels.link_keys(), token, record, now)
        if not verdict.ok:
            count("AlertLinkRejected")
        return verdict, record if verdict.ok else None

    def inbound_sms(self, phone: str, body: str, now: datetime) -> str:
        """An SMS reply from a known recipient; returns what was done."""
        words = body.strip().upper().split()
        command = words[0] if words else ""
        brands = shared_preferences(self._store.brands.list())
        known = [(b, r) for b in brands for r in b.recipients if r.channel is Channel.SMS and r.address == phone]
        if not known:
            count("InboundSmsUnknown")
            return "unknown sender"
        recipient = known[0][1]
        if command in STOP_WORDS:
            opted_out(self._store.claims, self._channels.operator, recipient, [b for b, _ in known])
            return "opted out"
        if command in START_WORDS:
            self._store.claims.clear_opted_out(recipient.key)
            return "opted in"
        if command not in ("ACK", "SNOOZE"):
            return "not a command"
        hours = 2
        if command == "SNOOZE" and len(words) > 1:
            digits = words[1].removesuffix("H")
            hours = int(digits) if digits.isdigit() and 1 <= int(digits) <= 24 else 2
        brand_names = {b.name for b, _ in known}
        done = 0
        for state, _ in self._states.open():
            if state.incident.brand in brand_names and recipient.key in state.told:
                done += self._acknowledge(state.incident.id, recipient.name, command.lower(), now, hours)
        return f"{command.lower()} {done} incident(s)"

    def _acknowledge(self, incident_id: str, who: str, action: str, now: datetime, snooze_hours: int) -> bool:
        state = self._states.acknowledge(incident_id, who, action, now, snooze_hours)
        if state is not None and action != "snooze":
            self._acknowledge_pages(state)
        return state is not None

    def _acknowledge_pages(self, state: AlertState) -> None:
        """Acknowledged here, so acknowledged in PagerDuty too (its alert stops escalating there); a failure is
        logged and counted, never undoes the acknowledgement."""
        brand = self._store.brands.get(state.incident.brand)
        for recipient in brand.recipients if brand else []:
            if recipient.channel is not Channel.PAGERDUTY or recipient.key not in state.told:
                continue
            event = webhooks.pagerduty_event(
                "acknowledge", routing_key=recipient.address, incident_id=state.incident.id
            )
            try:
                self._channels.pagerduty.send(event)
            except Exception as exc:
                count("NotificationsFailed", 1, channel="pagerduty")
                logger.warning("PagerDuty acknowledge failed", extra={"recipient": recipient.key, "error": str(exc)})
