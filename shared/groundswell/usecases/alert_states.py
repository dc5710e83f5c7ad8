"""Each incident's alert state (who was told, acknowledgements, snoozes), read and saved under optimistic
locking: a concurrent change is merged, never lost."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from groundswell.domain.alerting.lifecycle import AlertState, Verdict, merge, rebuilt_state
from groundswell.domain.alerting.notices import IncidentView
from groundswell.domain.ports import Deliveries
from groundswell.observability import count, logger, unreadable

SAVE_TRIES = 5
VERDICTS: dict[str, Literal["resolved", "not a crisis"]] = {"resolve": "resolved", "dismiss": "not a crisis"}
M = TypeVar("M", bound=BaseModel)
Work = dict[str, tuple[AlertState, int]]  # incident id -> (state, the version it was read at)


def readable(model: type[M], raw: str, what: str, key: str) -> M | None:
    """``raw`` parsed as ``model``, or None after logging and counting it (``UnreadableItems``): one item written
    by another version or edited by hand must not stop the notifier for every incident."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        unreadable(what.replace(" ", "_"), f"{what} unreadable: skipped and kept", exc, key=key)
        return None


class AlertStates:
    def __init__(self, deliveries: Deliveries):
        self._deliveries = deliveries

    def load(self, incident: IncidentView) -> tuple[AlertState, int]:
        stored = self._deliveries.alert_state(incident.id)
        if stored is None:
            return AlertState(incident=incident), 0
        state = readable(AlertState, stored.state, "alert state", incident.id)
        if state is None:  # rebuilt from the messages sent; the delivery claims keep each message to one send
            state = rebuilt_state(incident, self._deliveries.sent(incident.id))
        return state, stored.version

    def get(self, incident_id: str) -> AlertState | None:
        """The incident's alert state as stored, for reading (None when absent or unreadable)."""
        stored = self._deliveries.alert_state(incident_id)
        return readable(AlertState, stored.state, "alert state", incident_id) if stored else None

    def load_into(self, incident_id: str, work: Work) -> bool:
        stored = self._deliveries.alert_state(incident_id)
        state = readable(AlertState, stored.state, "alert state", incident_id) if stored else None
        if state is not None and stored is not None:
            work[incident_id] = (state, stored.version)
        return state is not None

    def open(self) -> list[tuple[AlertState, int]]:
        """The states of incidents not yet resolved (an unreadable one is skipped and kept)."""
        found = []
        for stored in self._deliveries.open_alert_states():
            state = readable(AlertState, stored.state, "alert state", stored.incident_id)
            if state is not None:
                found.append((state, stored.version))
        return found

    def save(self, work: Work) -> None:
        """Saves each state; on a concurrent change, merges with the stored one (who was told: union; ack and
        snooze: theirs; resolved: either) and tries again."""
        for incident_id, (state, version) in work.items():
            for _ in range(SAVE_TRIES):
                if self._deliveries.save_alert_state(
                    incident_id, state.model_dump_json(), version, resolved=state.resolved
                ):
                    break
                stored = self._deliveries.alert_state(incident_id)
                if stored is None:
                    version = 0
                    continue
                theirs = readable(AlertState, stored.state, "alert state", incident_id)
                state = merge(state, theirs) if theirs else state  # an unreadable one is replaced
                version = stored.version
            else:
                logger.error("alert state not saved after retries", extra={"incident": incident_id})

    def acknowledge(
        self, incident_id: str, who: str, action: str, now: datetime, snooze_hours: int
    ) -> AlertState | None:
        """Acknowledges (``ack``), snoozes, or records a person's verdict (``resolve``, ``dismiss``: not a crisis;
        both acknowledge it too); its new state, or None when it is resolved, unknown or could not be saved."""
        for _ in range(SAVE_TRIES):
            stored = self._deliveries.alert_state(incident_id)
            if stored is None:
                return None
            state = readable(AlertState, stored.state, "alert state", incident_id)
            if state is None or (state.resolved and action not in VERDICTS):  # "not a crisis" after the all clear
                return None
            if action in VERDICTS and state.verdict is not None:  # the first call stands
                return None
            if action == "snooze":
                state.snoozed_until = now + timedelta(hours=snooze_hours)
            else:
                state.acked_by, state.acked_at = state.acked_by or who, state.acked_at or now
            if action in VERDICTS:
                state.verdict = Verdict(call=VERDICTS[action], by=who, at=now)
            if self._deliveries.save_alert_state(incident_id, state.model_dump_json(), stored.version, resolved=False):
                logger.info("incident " + action, extra={"incident": incident_id})
                count("IncidentsSnoozed" if action == "snooze" else "IncidentsAcknowledged")
                return state
        return None
