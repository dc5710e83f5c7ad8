"""What the use cases need from storage, as Protocols, and the records that cross that boundary. The DynamoDB
repositories (``groundswell.adapters.dynamo``) implement them; tests may pass anything that fits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from groundswell.domain.models import Brand, Bucket, Mention


class CursorConflict(Exception):
    """Another poller moved the cursor first; its position stands (our mentions are stored regardless)."""


@dataclass(frozen=True)
class CursorRecord:
    state: dict[str, Any] | None
    version: int = 0
    failures: int = 0
    last_error: str | None = None
    last_success: str | None = None


@dataclass
class StoreReport:
    """What storing a batch did: ``stored`` new mentions were counted; ``duplicates`` were already there."""

    stored: int = 0
    duplicates: int = 0
    buckets: set[datetime] = field(default_factory=set)
    write_units: float = 0.0
    read_units: float = 0.0


@dataclass(frozen=True)
class OutboxEvent:
    """An incident transition stored by the detector, not yet handled by the notifier."""

    key: str
    brand: str
    kind: str
    incident: str  # the incident as JSON (``detection.incidents.Incident``)


class StoredAlertState(NamedTuple):
    """An incident's alert state (``alerting.lifecycle.AlertState`` as JSON) and its version (optimistic lock)."""

    incident_id: str
    state: str
    version: int


class DeliveryLog(NamedTuple):
    """One message about an incident, as claimed and sent (the incident page's timeline)."""

    step: str
    recipient: str  # recipient key
    kind: str  # open | escalate | reminder | resolved | taken
    status: str  # sending | sent | held | failed | undeliverable | superseded
    at: datetime | None  # when it was sent (or last tried), else claimed


class HeldMessage(NamedTuple):
    """A message held for quiet hours whose release time has come."""

    key: str
    payload: str


class Brands(Protocol):
    def get(self, name: str) -> Brand | None: ...
    def list(self, *, include_removed: bool = False) -> list[Brand]: ...


class Cursors(Protocol):
    def load(self, brand: str, source: str) -> CursorRecord: ...
    def save(
        self, brand: str, source: str, state: dict[str, Any] | None, expected_version: int, *, polled_at: datetime
    ) -> None: ...
    def record_failure(self, brand: str, source: str, error: str) -> int: ...
    def last_successes(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]: ...
    def histories(self, brands: Sequence[str]) -> dict[str, datetime]: ...
    def states_under(self, brand: str, prefix: str) -> dict[str, dict[str, Any]]: ...


class Buckets(Protocol):
    def buckets(self, brand: str, start: datetime, end: datetime) -> list[Bucket]: ...
    def buckets_at(self, wanted: Sequence[tuple[str, datetime]]) -> dict[tuple[str, datetime], Bucket]: ...


class Mentions(Buckets, Protocol):
    def store(self, mentions: Iterable[Mention], *, may_overlap: bool = True) -> StoreReport: ...
    def mentions(self, brand: str, start: datetime, end: datetime) -> list[Mention]: ...


class Incidents(Protocol):
    def record(
        self, brand: str, incident_id: str, kind: str, bucket: datetime, incident: str, resolved: bool
    ) -> bool: ...
    def history(self, brand: str) -> list[str]: ...


class DetectorStates(Protocol):
    def unobserved(self) -> set[str]: ...
    def states(self, brands: Sequence[str]) -> dict[str, bytes | None]: ...
    def save_states(self, states: dict[str, bytes]) -> None: ...
    def take_lease(self, what: str, owner: str, seconds: float, now: datetime) -> bool: ...
    def release_lease(self, what: str, owner: str, now: datetime) -> None: ...


class IncidentFeed(Protocol):
    """The incidents as the notifier reads them: the outbox of transitions, and each brand's history."""

    def outbox(self) -> list[OutboxEvent]: ...
    def clear_outbox(self, keys: Sequence[str]) -> None: ...
    def history(self, brand: str) -> list[str]: ...
    def events(self, brand: str, incident_id: str) -> list[tuple[str, datetime, str]]: ...


class Deliveries(Protocol):
    def alert_state(self, incident_id: str) -> StoredAlertState | None: ...
    def open_alert_states(self) -> list[StoredAlertState]: ...
    def save_alert_state(self, incident_id: str, state: str, version: int, *, resolved: bool) -> bool: ...
    def claim(
        self, incident_id: str, step: str, recipient: str, *, payload: str, held_until: datetime | None = None
    ) -> str: ...
    def sent(self, incident_id: str) -> list[tuple[str, str]]: ...
    def log(self, incident_id: str) -> list[DeliveryLog]: ...
    def finish(self, incident_id: str, step: str, recipient: str, status: str, detail: str = "") -> None: ...
    def due_held(self, now: datetime) -> list[HeldMessage]: ...
    def release_held(self, held_key: str, incident_id: str, step: str, recipient: str) -> bool: ...


class Claims(Protocol):
    def claim_once(self, what: str, ttl_seconds: int) -> bool: ...
    def take_sms_budget(self, recipient: str, day: str, parts: int, *, per_recipient: int, per_day: int) -> bool: ...
    def mark_opted_out(self, recipient: str) -> bool: ...
    def opted_out(self, recipients: Sequence[str]) -> set[str]: ...
    def clear_opted_out(self, recipient: str) -> None: ...
    def put_link(self, link_id: str, record: str, expires_at: datetime) -> None: ...
    def get_link(self, link_id: str) -> str | None: ...


class AlertingStore(Protocol):
    """What the notifier reads and writes."""

    @property
    def brands(self) -> Brands: ...
    @property
    def incidents(self) -> IncidentFeed: ...
    @property
    def deliveries(self) -> Deliveries: ...
    @property
    def claims(self) -> Claims: ...
    @property
    def mentions(self) -> Mentions: ...


class OptedOut(Exception):
    """The phone number replied STOP: SMS cannot reach it."""


class DeliveryError(Exception):
    """The provider refused the message for good (not throttling, which is retried)."""


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> str: ...


class EmailSender(Protocol):
    def send(self, sender: str, to: str, raw: bytes) -> str: ...


class OperatorNotifier(Protocol):
    def tell(self, subject: str, message: str) -> None: ...


class WebhookSender(Protocol):
    def send(self, url: str, payload: dict[str, Any]) -> str: ...


class EventSender(Protocol):
    """PagerDuty's Events API v2: one event (trigger, acknowledge, resolve) at a time."""

    def send(self, event: dict[str, Any]) -> str: ...
