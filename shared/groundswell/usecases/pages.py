"""The incident page behind a signed link: its content gathered from the alert state, the incident's stored
transitions and messages, the counts and the posts (rendered by :mod:`groundswell.domain.alerting.page`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError

from groundswell.domain.alerting.lifecycle import AlertState
from groundswell.domain.alerting.notices import AlertKind, IncidentView, Notice, local_time, window_label
from groundswell.domain.alerting.page import IncidentPage, Moment, render
from groundswell.domain.models import Brand, Channel, Recipient
from groundswell.domain.ports import AlertingStore
from groundswell.observability import logger
from groundswell.usecases.actions import Actions, Outcome
from groundswell.usecases.alert_states import AlertStates
from groundswell.usecases.content import Content
from groundswell.usecases.deliver import Deliverer

SAMPLES, MORE_SAMPLES = 5, 25
TOLD = {Channel.SMS: "Texted", Channel.EMAIL: "Emailed", Channel.WEBHOOK: "Posted to", Channel.PAGERDUTY: "Paged"}
WHAT = {"open": "the alert", "escalate": "that it got worse", "reminder": "a reminder", "resolved": "the all clear"}
STATUS_NOTES = {"held": " (held for quiet hours)", "failed": " (failed, retrying)", "undeliverable": " (refused)"}


class IncidentFacts:
    """What is known of one incident, as the page and ``groundswell incidents`` show it: no link needed."""

    def __init__(self, store: AlertingStore, content: Content):
        self._store, self._content = store, content

    def state(self, incident_id: str) -> AlertState | None:
        return AlertStates(self._store.deliveries).get(incident_id)

    def page(
        self, state: AlertState, brand: Brand, timezone: str, now: datetime, *, samples: int, chart: bool
    ) -> IncidentPage:
        """The incident's page content as of ``now``: its numbers, ``samples`` sample posts, its chart (when
        ``chart``), status and timeline. Counts or posts that cannot be read leave those parts out."""
        incident = state.incident
        kind = AlertKind.OPEN if incident.kind == "crisis" else AlertKind.ATTENTION
        kind = AlertKind.RESOLVED if state.resolved else kind
        notice, png = Notice(kind=kind, incident=incident, brand_label=brand.label), None
        try:
            notice = self._content.with_facts(notice, now, brand.peers)
            notice = self._content.with_samples(notice, samples)
            png = self._content.chart(notice, timezone, now) if chart else None
        except Exception as exc:  # the incident is still shown without its counts, chart or posts
            logger.warning("incident content unavailable", extra={"incident": incident.id, "error": str(exc)})
        return IncidentPage(
            notice=notice,
            status=status(state, timezone, now),
            timeline=self.timeline(state, brand),
            chart=png,
            # an attention notice pages no one: nothing to acknowledge or snooze, only a call to make
            actionable=not state.resolved and state.verdict is None and incident.kind == "crisis",
            verdict_allowed=state.verdict is None,
            more_posts=len(notice.samples) >= samples,
        )

    def timeline(self, state: AlertState, brand: Brand) -> list[Moment]:
        """Opened, escalated, who was told on which channel and when, who acknowledged or decided, all clear."""
        incident = state.incident
        moments = [
            Moment(at, transition(kind, raw))
            for kind, at, raw in self._store.incidents.events(incident.brand, incident.id)
        ]
        people = {r.key: r for r in brand.recipients}
        for entry in self._store.deliveries.log(incident.id):
            recipient = people.get(entry.recipient)
            if entry.at is None or recipient is None or entry.status in ("superseded", "sending"):
                continue
            what = WHAT.get(entry.kind, entry.kind)
            moments.append(Moment(entry.at, f"{told(recipient)}: {what}{STATUS_NOTES.get(entry.status, '')}"))
        if state.acked_at and state.acked_by:
            moments.append(Moment(state.acked_at, f"Acknowledged by {state.acked_by}"))
        if state.verdict:
            call = "Resolved" if state.verdict.call == "resolved" else "Marked not a crisis"
            moments.append(Moment(state.verdict.at, f"{call} by {state.verdict.by}"))
        return sorted(moments, key=lambda m: m.at)


class IncidentPages:
    """The page behind an alert's signed link."""

    def __init__(self, deliverer: Deliverer, actions: Actions):
        self._deliverer, self._actions = deliverer, actions
        self._store = deliverer.store
        self.facts = IncidentFacts(deliverer.store, deliverer.content)

    def show(self, token: str, now: datetime, *, more: bool = False, banner: str = "") -> tuple[Outcome, str]:
        """The page for a link (its HTML), or why not (REFUSED and the reason)."""
        verdict, record = self._actions.check_link(token, now)
        if record is None:
            return Outcome.REFUSED, verdict.reason
        self._deliverer.start()
        brands = {name: self._store.brands.get(name) for name in record.brands}
        viewer = next((r for b in brands.values() if b for r in b.recipients if r.key == record.recipient), None)
        timezone = viewer.timezone if viewer else next((b.timezone for b in brands.values() if b), "UTC")
        pages = []
        for incident_id in record.incidents:
            state = self.facts.state(incident_id)
            brand = brands.get(state.incident.brand) if state else None
            if state is not None and brand is not None:
                count = MORE_SAMPLES if more else SAMPLES
                page = self.facts.page(state, brand, timezone, now, samples=count, chart=True)
                pages.append(replace(page, more_posts=page.more_posts and not more))
        if not pages:
            return Outcome.INVALID, "This incident can no longer be shown."
        html = render(pages, viewer=record.recipient_name, timezone=timezone, more_url="?more=1", banner=banner)
        return Outcome.DONE, html


def transition(kind: str, raw: str) -> str:
    """A stored transition as a line of the timeline."""
    try:
        incident = IncidentView.model_validate_json(raw)
    except ValidationError:
        return kind
    numbers = (
        f"{incident.observed:.0f} negative posts in {window_label(incident.window_minutes)}, {incident.ratio:.1f}x"
    )
    return {
        "open": f"Opened at severity {incident.severity} ({numbers})",
        "escalate": f"Worse: severity {incident.severity} ({numbers})",
        "update": f"New peak ({numbers})",
        "resolve": "Back to normal: all clear",
    }.get(kind, kind)


def told(recipient: Recipient) -> str:
    return f"{TOLD[recipient.channel]} {recipient.name} ({recipient.channel.value})"


def status(state: AlertState, timezone: str, now: datetime) -> str:
    """One line: where the incident stands."""
    if state.verdict is not None:
        call = "Resolved" if state.verdict.call == "resolved" else "Marked not a crisis"
        return f"{call} by {state.verdict.by}, {local_time(state.verdict.at, timezone, with_day=True)}"
    if state.resolved:
        return "All clear: back to normal"
    if state.acked_at is not None:
        return f"Acknowledged by {state.acked_by}, {local_time(state.acked_at, timezone, with_day=True)}"
    if state.snoozed_until is not None and now < state.snoozed_until:
        return f"Snoozed until {local_time(state.snoozed_until, timezone, with_day=True)}"
    minutes = max(0, round((now - state.incident.opened_at).total_seconds() / 60 / 5) * 5)
    if state.incident.kind == "attention":
        return f"Open for {window_label(minutes)}: an attention notice, nobody paged"
    return f"Open, not acknowledged ({window_label(minutes)})"
