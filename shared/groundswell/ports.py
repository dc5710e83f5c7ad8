"""What the use cases need from storage, as Protocols, and the records that cross that boundary. The DynamoDB
repositories (``groundswell.adapters.dynamo``) implement them; tests may pass anything that fits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from groundswell.models import Brand, Bucket, Mention


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
