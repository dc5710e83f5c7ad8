"""Source cursors: ``BRAND#<name>`` / ``CURSOR#<source>``: where polling got to (state JSON), its version (an
optimistic lock between pollers), consecutive failures and the last success."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from groundswell.adapters.dynamo.table import Table, key
from groundswell.domain.backfill import MARKER
from groundswell.domain.ports import CursorConflict, CursorRecord


class CursorRepository:
    def __init__(self, table: Table):
        self._table = table

    def load(self, brand: str, source: str) -> CursorRecord:
        item = self._table.get(f"BRAND#{brand}", f"CURSOR#{source}")
        if not item:
            return CursorRecord(state=None)
        return CursorRecord(
            state=json.loads(item["state"]["S"]) if "state" in item else None,
            version=int(item["version"]["N"]),
            failures=int(item.get("failures", {}).get("N", "0")),
            last_error=item.get("last_error", {}).get("S"),
            last_success=item.get("last_success", {}).get("S"),
        )

    def save(
        self,
        brand: str,
        source: str,
        state: dict[str, Any] | None,
        expected_version: int,
        *,
        polled_at: datetime | None = None,
    ) -> None:
        """Advances the cursor if nobody else did since it was loaded; resets the failure count and records
        ``polled_at`` (default: now) as the last success. Raises :class:`CursorConflict` otherwise."""
        if not self._table.update_if(
            f"BRAND#{brand}",
            f"CURSOR#{source}",
            "SET #s = :s, version = :next, failures = :zero, last_success = :now",
            "attribute_not_exists(version) OR version = :expected",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":s": {"S": json.dumps(state, sort_keys=True)},
                ":next": {"N": str(expected_version + 1)},
                ":expected": {"N": str(expected_version)},
                ":zero": {"N": "0"},
                ":now": {"S": (polled_at or self._table.now()).astimezone(UTC).isoformat(timespec="seconds")},
            },
        ):
            raise CursorConflict(f"cursor {brand}/{source} moved by another poller")

    def last_successes(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        """When each (brand, source) was last polled successfully; pairs never polled are absent."""
        keys = [key(f"BRAND#{brand}", f"CURSOR#{source}") for brand, source in pairs]
        found = {}
        for item in self._table.batch_get(keys, projection="pk, sk, last_success"):
            if "last_success" in item:
                pair = (item["pk"]["S"].removeprefix("BRAND#"), item["sk"]["S"].removeprefix("CURSOR#"))
                found[pair] = datetime.fromisoformat(item["last_success"]["S"])
        return found

    def states_under(self, brand: str, prefix: str) -> dict[str, dict[str, Any]]:
        """The brand's cursor states whose name starts with ``prefix`` (a backfill's days: its progress)."""
        found = {}
        for item in self._table.query(f"BRAND#{brand}", f"CURSOR#{prefix}"):
            state = json.loads(item["state"]["S"]) if "state" in item else None
            found[item["sk"]["S"].removeprefix("CURSOR#")] = state if isinstance(state, dict) else {}
        return found

    def histories(self, brands: Sequence[str]) -> dict[str, datetime]:
        """Where each brand's backfilled history starts, for the brands whose backfill is complete (its
        ``domain.backfill.MARKER`` record): one BatchGetItem per 100 brands."""
        keys = [key(f"BRAND#{brand}", f"CURSOR#{MARKER}") for brand in brands]
        found = {}
        for item in self._table.batch_get(keys):
            state = json.loads(item.get("state", {}).get("S", "{}"))
            if isinstance(state, dict) and isinstance(state.get("history_from"), str):
                found[item["pk"]["S"].removeprefix("BRAND#")] = datetime.fromisoformat(state["history_from"])
        return found

    def record_failure(self, brand: str, source: str, error: str) -> int:
        """Counts a failed poll (the cursor stays where it is); returns the consecutive failure count."""
        reply = self._table.db.update_item(
            TableName=self._table.name,
            Key=key(f"BRAND#{brand}", f"CURSOR#{source}"),
            UpdateExpression="ADD failures :one SET last_error = :e, last_failure = :now, "
            "version = if_not_exists(version, :zero)",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":e": {"S": error[:500]},
                ":now": {"S": self._table.stamp()},
                ":zero": {"N": "0"},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(reply["Attributes"]["failures"]["N"])
