"""Incidents and their transitions, written together so that an incident's news is never lost (one
transaction per transition):

- event ``BRAND#<name>`` / ``EVENT#<id>#<kind>#<bucket>``: one per transition; its condition makes it idempotent
- outbox ``OUTBOX`` / ``<bucket>#<id>#<kind>``: transitions the notifier has not handled yet
- incident ``BRAND#<name>`` / ``INCIDENT#<id>``: the incident's latest JSON and status
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from groundswell.adapters.dynamo.table import Table, key
from groundswell.domain.ports import OutboxEvent


class IncidentRepository:
    def __init__(self, table: Table):
        self._table = table

    def record(self, brand: str, incident_id: str, kind: str, bucket: datetime, incident: str, resolved: bool) -> bool:
        """Stores the incident and one event per transition (with its outbox entry); False if this exact event
        was stored before. Only the event's own condition means that: throttling and conflicts are retried, then
        raised."""
        text = {"S": incident}
        event = {**key(f"BRAND#{brand}", f"EVENT#{incident_id}#{kind}#{bucket.isoformat()}"), "incident": text}
        outbox = {
            **key("OUTBOX", f"{bucket.isoformat()}#{incident_id}#{kind}"),
            "brand": {"S": brand},
            "incident": text,
        }
        latest = {
            **key(f"BRAND#{brand}", f"INCIDENT#{incident_id}"),
            "incident": text,
            "status": {"S": "resolved" if resolved else "open"},
        }
        return self._table.transact(
            [
                {"Put": {"Item": {**event, "kind": {"S": kind}}, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": {**outbox, "kind": {"S": kind}}}},
                {"Put": {"Item": latest}},
            ],
            guards=(0,),
        )

    def history(self, brand: str) -> list[str]:
        """The brand's incidents as JSON, oldest first (the last one is open, or none is)."""
        return [item["incident"]["S"] for item in self._table.query(f"BRAND#{brand}", "INCIDENT#")]

    def events(self, brand: str, incident_id: str) -> list[tuple[str, datetime, str]]:
        """The incident's transitions (kind, bucket, the incident's JSON then), oldest first."""
        found = []
        for item in self._table.query(f"BRAND#{brand}", f"EVENT#{incident_id}#"):
            kind, _, bucket = item["sk"]["S"].removeprefix(f"EVENT#{incident_id}#").partition("#")
            found.append((kind, datetime.fromisoformat(bucket), item["incident"]["S"]))
        return sorted(found, key=lambda event: event[1])

    def outbox(self) -> list[OutboxEvent]:
        """Incident transitions stored by the detector and not yet handled by the notifier, oldest first."""
        return [
            OutboxEvent(item["sk"]["S"], item["brand"]["S"], item["kind"]["S"], item["incident"]["S"])
            for item in self._table.query("OUTBOX")
        ]

    def clear_outbox(self, keys: Sequence[str]) -> None:
        self._table.batch_delete([("OUTBOX", k) for k in keys])
