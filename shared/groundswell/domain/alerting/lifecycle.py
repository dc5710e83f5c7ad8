"""Who hears what, when: the incident lifecycle as pure functions (no AWS), after Alertmanager and PagerDuty.

- **open**: the first rung of the brand's escalation ladder (roles with ``after_minutes: 0``) hears once;
- **escalate**: severity rose: everyone already told hears again; recipients whose ``min_severity`` it now
  meets hear for the first time (as an open);
- **ladder**: unacknowledged ``after_minutes`` after opening, the next role hears (as an open, with a note);
- **reminder**: while unacknowledged and not snoozed, backing off: ``reminder_minutes`` after a person's last
  message, then twice that after each reminder, at most ``reminder_max_minutes`` apart (1 h, 2 h, 4 h, 8 h...
  by default). A person is reminded once, not again: their next reminder is the next rung of the ladder hearing
  now (if it has not yet), and once a higher rung was told, only the highest rung told keeps being reminded;
- **resolved**: an all clear to everyone who was told.

An **attention** notice (unusual volume, not negative: ``IncidentView.kind``) never pages: one message when it
opens, to the recipients on email and webhooks (chat) whose ``min_severity`` is 1, held through quiet hours; no
ladder, reminders or all clear (the daily summary and the incident page tell how it ended). If negatives follow,
the crisis that opens is a new incident and goes through everything above.

Acknowledging stops reminders and the ladder; snoozing pauses them until the snooze ends. A severity
escalation still reaches those already told (it is news), but not within ``ESCALATION_GAP`` of their last
message about the incident: it waits for the gap to pass and then says the latest state (a swell that opens
at 2.4x and crosses 2.5x five minutes later is one text, not two). Quiet hours in the recipient's zone hold
everything but severity 4 until they end; reminders falling in quiet hours are skipped, not held.

Every dispatch has a deterministic ``step``: the delivery key ``(incident, step, recipient)`` makes sending
idempotent under retries and concurrent invocations (the store claims it conditionally).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from groundswell.domain.alerting.notices import AlertKind, IncidentView
from groundswell.domain.models import Brand, Channel, Recipient, Role

URGENT_SEVERITY = 4  # goes through quiet hours and the escalation gap
ESCALATION_GAP = timedelta(minutes=15)


class Told(BaseModel):
    """What one recipient has been sent about one incident."""

    severity: int
    at: datetime
    reminders: int = 0  # reminders sent since their last other message (the next one waits twice as long)


class Verdict(BaseModel):
    """A person's call on an incident from its page: ``resolved`` (handled) or ``not a crisis`` (a false alarm,
    kept for the daily summary and for tuning). Either stops reminders, as an acknowledgement does."""

    call: Literal["resolved", "not a crisis"]
    by: str
    at: datetime


class AlertState(BaseModel):
    """Per incident: the latest view of it, who was told, and acknowledgement."""

    incident: IncidentView
    told: dict[str, Told] = Field(default_factory=dict)  # recipient key -> last message
    acked_by: str | None = None
    acked_at: datetime | None = None
    snoozed_until: datetime | None = None
    resolved: bool = False
    verdict: Verdict | None = None  # a person's call on the page: resolved, or not a crisis
    taken_told: bool = False  # the others told were sent who took it (``taken_notes``)

    def paused(self, now: datetime) -> bool:
        return self.acked_at is not None or (self.snoozed_until is not None and now < self.snoozed_until)


@dataclass(frozen=True)
class Dispatch:
    """One message about one incident to one recipient, now or held until ``not_before``."""

    recipient: Recipient
    incident_id: str
    kind: AlertKind
    step: str
    note: str = ""
    not_before: datetime | None = None


def on_transition(state: AlertState, kind: str, brand: Brand, now: datetime) -> list[Dispatch]:
    """Dispatches for a detector transition (``open``, ``escalate``, ``update``, ``resolve``)."""
    incident = state.incident
    if incident.kind == "attention":
        state.resolved = state.resolved or kind == "resolve"
        return _held(_attention_notices(state, brand), 1, now) if kind in ("open", "update") else []
    if kind == "resolve":
        state.resolved = True
        return _held([Dispatch(r, incident.id, AlertKind.RESOLVED, "resolved") for r in _told(state, brand)], 1, now)
    if kind == "open":
        return _held(_first_time(state, brand, now), incident.severity, now)
    if kind == "escalate":
        again = [
            Dispatch(
                r,
                incident.id,
                AlertKind.ESCALATE,
                f"sev{incident.severity}",
                not_before=_after_gap(state.told[r.key].at, incident.severity, now),
            )
            for r in _told(state, brand)
            if state.told[r.key].severity < incident.severity
        ]
        return _held(again + _first_time(state, brand, now), incident.severity, now)
    return []  # "update": a new peak at the same severity is not worth a message


def on_tick(state: AlertState, brand: Brand, now: datetime) -> list[Dispatch]:
    """Dispatches due by time alone: the next ladder rung and reminders; once acknowledged, who took it."""
    if state.incident.kind == "attention":
        return []
    if state.acked_by is not None and not state.taken_told:
        return taken_notes(state, brand, now)
    if state.resolved or state.paused(now):
        return []
    incident, policy = state.incident, brand.alerting
    minutes = _minutes_open(state, now)
    note = f"unacknowledged for {minutes:.0f} min"
    ladder = _first_time(state, brand, now, note=note)
    reminders: list[Dispatch] = []
    rank = _ranks(brand)
    told_people = _told(state, brand)
    top = max((rank[r.role] for r in told_people if r.role in rank), default=0)
    above = [r for r in brand.recipients if rank.get(r.role, 0) == top + 1 and r.key not in state.told]
    if policy.reminder_minutes:
        for recipient in told_people:
            told = state.told[recipient.key]
            gap = min(policy.reminder_minutes * 2**told.reminders, max(policy.reminder_max_minutes, 1))
            due = minutes >= policy.reminder_minutes and now - told.at >= timedelta(minutes=gap)
            if not due or (in_quiet_hours(recipient, now) and incident.severity < URGENT_SEVERITY):
                continue
            if told.reminders and rank.get(recipient.role, 0) < top:
                continue  # reminded once already; the rung above them has been told and is reminded instead
            if told.reminders and above:  # reminded once already: the next rung hears now, instead of a repeat
                ladder += [
                    Dispatch(r, incident.id, AlertKind.OPEN, "open", note=f"{note}; {recipient.name} was reminded")
                    for r in above
                    if r.min_severity <= incident.severity and r.key not in {d.recipient.key for d in ladder}
                ]
                continue
            reminders.append(
                Dispatch(
                    recipient,
                    incident.id,
                    AlertKind.REMINDER,
                    f"reminder-{told.at:%Y%m%dT%H%M}",  # one per last message: a retry claims the same
                    note=note,
                )
            )
    return _held(ladder, incident.severity, now) + reminders


def taken_notes(state: AlertState, brand: Brand, now: datetime) -> list[Dispatch]:
    """Once someone acknowledged (or decided) the incident: one short note to each other person told, on the
    channel they were told on, saying who took it. Not to the one who took it (by name, on any channel), not to
    PagerDuty (it gets the acknowledge event), and skipped in quiet hours below severity 4: news that needs no
    action wakes no one."""
    state.taken_told = True
    if state.resolved and state.verdict is None:
        return []
    who = state.acked_by or ""
    verdict = state.verdict
    note = (
        f"{'not a crisis' if verdict.call == 'not a crisis' else 'resolved'}, says {who}"
        if verdict
        else f"taken by {who}"
    )
    return [
        Dispatch(r, state.incident.id, AlertKind.TAKEN, "taken", note=note)
        for r in _told(state, brand)
        if r.name != who
        and r.channel is not Channel.PAGERDUTY
        and (not in_quiet_hours(r, now) or state.incident.severity >= URGENT_SEVERITY)
    ]


def latest_per_incident(dispatches: Sequence[Dispatch]) -> list[Dispatch]:
    """One dispatch per incident for one message: an all clear beats the rest, otherwise the last one (an
    incident that opened and resolved while its messages were held arrives as one all clear)."""
    latest: dict[str, Dispatch] = {}
    for dispatch in dispatches:
        current = latest.get(dispatch.incident_id)
        if current is None or current.kind is not AlertKind.RESOLVED:
            latest[dispatch.incident_id] = dispatch
    return list(latest.values())


def record_sent(state: AlertState, dispatch: Dispatch, now: datetime) -> None:
    earlier = state.told.get(dispatch.recipient.key)
    reminders = earlier.reminders + 1 if earlier and dispatch.kind is AlertKind.REMINDER else 0
    state.told[dispatch.recipient.key] = Told(severity=state.incident.severity, at=now, reminders=reminders)


def rebuilt_state(incident: IncidentView, sent: Iterable[tuple[str, str]]) -> AlertState:
    """An alert state rebuilt from the messages sent, (step, recipient key), when the stored one cannot be read:
    who was told, at the severity their last escalation named (``sev<n>``) or 1, as of the opening. Replies
    (acknowledged, snoozed) are not in the messages and are lost."""
    told: dict[str, Told] = {}
    for step, recipient in sent:
        severity = int(step[3:]) if step.startswith("sev") and step[3:].isdigit() else 1
        if recipient not in told or severity > told[recipient].severity:
            told[recipient] = Told(severity=severity, at=incident.opened_at)
    return AlertState(incident=incident, told=told)


def merge(ours: AlertState, theirs: AlertState) -> AlertState:
    """Two invocations' versions of one state: who was told (union, latest), ack, snooze and verdict (either),
    resolved (either), the incident with the later peak."""
    told = {**theirs.told}
    for key, entry in ours.told.items():
        if key not in told or entry.at > told[key].at:
            told[key] = entry
    newest = ours.incident if ours.incident.peak_at >= theirs.incident.peak_at else theirs.incident
    return AlertState(
        incident=newest,
        told=told,
        acked_by=theirs.acked_by or ours.acked_by,
        acked_at=theirs.acked_at or ours.acked_at,
        snoozed_until=max(filter(None, (theirs.snoozed_until, ours.snoozed_until)), default=None),
        resolved=ours.resolved or theirs.resolved,
        verdict=theirs.verdict or ours.verdict,
        taken_told=ours.taken_told or theirs.taken_told,
    )


def _first_time(state: AlertState, brand: Brand, now: datetime, note: str = "") -> list[Dispatch]:
    """Recipients the incident now reaches (ladder rung due, severity high enough) who were never told. While
    acknowledged or snoozed the ladder stays on its first rung."""
    incident, policy = state.incident, brand.alerting
    if state.resolved:
        return []
    first = policy.roles_due(0)
    roles = first if state.paused(now) else policy.roles_due(_minutes_open(state, now))
    return [
        Dispatch(r, incident.id, AlertKind.OPEN, "open", note="" if r.role in first else note)
        for r in brand.recipients
        if r.role in roles and r.min_severity <= incident.severity and r.key not in state.told
    ]


ATTENTION_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)


def _attention_notices(state: AlertState, brand: Brand) -> list[Dispatch]:
    """An attention notice's one message: to email and chat recipients who hear severity 1, never SMS or
    PagerDuty; once a crowd carries it (``IncidentView.one_voice``: at its opening, or at a later peak)."""
    incident = state.incident
    if incident.one_voice or state.resolved:
        return []
    return [
        Dispatch(r, incident.id, AlertKind.ATTENTION, "attention")
        for r in brand.recipients
        if r.channel in ATTENTION_CHANNELS and r.min_severity <= incident.severity and r.key not in state.told
    ]


def _ranks(brand: Brand) -> dict[Role, int]:
    """Each role's rung on the brand's escalation ladder: 0 for who hears first, 1 for the next, ..."""
    first: dict[Role, int] = {}
    for step in brand.alerting.escalation:
        first[step.role] = min(first.get(step.role, step.after_minutes), step.after_minutes)
    return {role: i for i, role in enumerate(sorted(first, key=lambda role: first[role]))}


def _told(state: AlertState, brand: Brand) -> list[Recipient]:
    return [r for r in brand.recipients if r.key in state.told]


def _minutes_open(state: AlertState, now: datetime) -> float:
    return max(0.0, (now - state.incident.opened_at).total_seconds() / 60)


def _after_gap(last_told: datetime, severity: int, now: datetime) -> datetime | None:
    """When an escalation may go to someone last told at ``last_told`` (None: now)."""
    ready = last_told + ESCALATION_GAP
    return ready if now < ready and severity < URGENT_SEVERITY else None


def _held(dispatches: Iterable[Dispatch], severity: int, now: datetime) -> list[Dispatch]:
    """Each dispatch held until its recipient's quiet hours end (or later, if it already waits longer),
    unless the incident is urgent."""
    if severity >= URGENT_SEVERITY:
        return list(dispatches)
    held = []
    for dispatch in dispatches:
        end = quiet_hours_end(dispatch.recipient, now)
        if end is not None and (dispatch.not_before is None or end > dispatch.not_before):
            dispatch = replace(dispatch, not_before=end)
        held.append(dispatch)
    return held


def in_quiet_hours(recipient: Recipient, now: datetime) -> bool:
    return quiet_hours_end(recipient, now) is not None


def quiet_hours_end(recipient: Recipient, now: datetime) -> datetime | None:
    """When the recipient's quiet hours end (UTC), if ``now`` is inside them; else None. DST-correct: the end
    is the first instant at or after the end hour on the local calendar."""
    if recipient.quiet_hours is None:
        return None
    start, end = recipient.quiet_hours
    if start == end:
        return None
    zone = ZoneInfo(recipient.timezone)
    local = now.astimezone(zone)
    hour = local.hour
    inside = start <= hour < end if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    wall = datetime(day.year, day.month, day.day, end, tzinfo=zone)
    return wall.astimezone(now.tzinfo)
