"""The notifier: turns stored incident transitions and the passing of time into messages, exactly once.

- ``drain``: the detector's outbox (transitions stored in the same transaction as the incident) -> lifecycle
  -> one message per recipient per cycle, grouping the incidents of several brands;
- ``tick`` (every few minutes): ladder rungs and reminders due, held messages whose quiet hours ended, daily
  summaries due, and the outbox again as a backstop;
- ``act`` / ``inbound_sms`` (``actions``): acknowledge, snooze, resolve or "not a crisis" from a signed link,
  acknowledge or snooze by SMS reply; ``page`` (``pages``): the incident page behind the link.

Domain decisions live in ``domain.alerting.lifecycle``; composing in ``sms``, ``email`` and ``summary``;
claiming and sending in ``deliver``; this module sequences them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from groundswell.domain.alerting.lifecycle import AlertState, Dispatch, on_tick, on_transition
from groundswell.domain.alerting.notices import AlertKind, IncidentView
from groundswell.domain.alerting.people import shared_preferences
from groundswell.domain.models import Brand
from groundswell.domain.ports import AlertingStore
from groundswell.observability import logger
from groundswell.usecases.actions import ActionResult, Actions, Outcome
from groundswell.usecases.alert_states import AlertStates, Work, readable
from groundswell.usecases.deliver import Deliverer
from groundswell.usecases.messages import Channels, DeliveryFailed, NotifyReport, SentMessage
from groundswell.usecases.pages import IncidentPages
from groundswell.usecases.summaries import send_summaries

__all__ = ["ActionResult", "Channels", "DeliveryFailed", "Notifier", "NotifyReport", "Outcome", "SentMessage"]


class Notifier:
    def __init__(self, store: AlertingStore, channels: Channels):
        self.store, self.channels = store, channels
        self.states = AlertStates(store.deliveries)
        self.deliverer = Deliverer(store, channels)
        self.actions = Actions(self.deliverer, self.states)
        self.pages = IncidentPages(self.deliverer, self.actions)
        self.act, self.check_link, self.inbound_sms, self.page = (
            self.actions.act,
            self.actions.check_link,
            self.actions.inbound_sms,
            self.pages.show,
        )

    @property
    def on_sent(self) -> Callable[[SentMessage], None] | None:
        """Called with every message sent (the demo and replay keep them)."""
        return self.deliverer.on_sent

    @on_sent.setter
    def on_sent(self, callback: Callable[[SentMessage], None] | None) -> None:
        self.deliverer.on_sent = callback

    def drain(self, now: datetime) -> NotifyReport:
        """Handles every transition in the outbox; clears it once their messages are claimed and sent."""
        self.deliverer.start()
        return self._drain(None, now)

    def tick(self, now: datetime) -> NotifyReport:
        """Everything due by time: ladder rungs, reminders, released holds, daily summaries; then the outbox."""
        self.deliverer.start()
        report = NotifyReport()
        brands = self._watched()
        work: Work = {}
        dispatches: list[Dispatch] = []
        for state, version in self.states.open():
            brand = brands.get(state.incident.brand)
            if brand is not None:
                dispatches.extend(on_tick(state, brand, now))
                work[state.incident.id] = (state, version)
        failures = self.deliverer.deliver(dispatches, {i: s for i, (s, _) in work.items()}, brands, now, report)
        failures += self._release_held(brands, work, now, report)
        self.states.save(work)
        report.summaries = send_summaries(self.deliverer, brands.values(), now)
        try:
            drained = self._drain(brands, now)
        except DeliveryFailed as exc:
            failures += exc.count
        else:
            report.events, report.sent = drained.events, report.sent + drained.sent
        if failures:
            raise DeliveryFailed(failures)
        return report

    def _drain(self, brands: dict[str, Brand] | None, now: datetime) -> NotifyReport:
        report = NotifyReport()
        events = self.store.incidents.outbox()
        if not events:
            return report
        brands = brands if brands is not None else self._watched()
        work: Work = {}
        dispatches: list[Dispatch] = []
        handled = []
        for event in events:
            incident = readable(IncidentView, event.incident, "outbox event", event.key)
            if incident is None:
                continue  # left in the outbox for a version that can read it
            handled.append(event.key)
            brand = brands.get(event.brand)
            if brand is None:
                logger.warning("incident of a brand no longer watched; not notified", extra={"incident": incident.id})
                continue
            state, version = work.get(incident.id) or self.states.load(incident)
            state.incident = incident
            dispatches.extend(on_transition(state, event.kind, brand, now))
            work[incident.id] = (state, version)
        report.events = len(events)
        failures = self.deliverer.deliver(dispatches, {i: s for i, (s, _) in work.items()}, brands, now, report)
        self.states.save(work)
        self.store.incidents.clear_outbox(handled)
        if failures:
            raise DeliveryFailed(failures)
        return report

    def _watched(self) -> dict[str, Brand]:
        """The enabled brands: a paused brand (``enabled: false``) gets no alerts, reminders or summaries until it
        is enabled again; its incidents wait, and acknowledging them still works."""
        return {b.name: b for b in shared_preferences(self.store.brands.list()) if b.enabled}

    def _release_held(self, brands: dict[str, Brand], work: Work, now: datetime, report: NotifyReport) -> int:
        """Held messages whose quiet hours ended, one message per recipient with each incident's latest state
        (an incident that opened and resolved in the night arrives as one all clear)."""
        deliveries = self.store.deliveries
        groups: dict[str, list[Dispatch]] = defaultdict(list)
        for held in deliveries.due_held(now):
            item = json.loads(held.payload)
            brand = brands.get(item["brand"])
            recipient = next((r for r in brand.recipients if r.key == item["recipient"]), None) if brand else None
            if recipient is None or (
                item["incident"] not in work and not self.states.load_into(item["incident"], work)
            ):
                deliveries.release_held(held.key, item["incident"], item["step"], item["recipient"])
                continue
            if deliveries.release_held(held.key, item["incident"], item["step"], item["recipient"]):
                dispatch = Dispatch(
                    recipient, item["incident"], AlertKind(item["kind"]), item["step"], item.get("note", "")
                )
                groups[recipient.key].append(dispatch)
        states: dict[str, AlertState] = {i: s for i, (s, _) in work.items()}
        return sum(self.deliverer.send(group, states, brands, now, report) for group in groups.values())
