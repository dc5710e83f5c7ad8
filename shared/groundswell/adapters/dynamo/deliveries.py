"""Who was told what about an incident, each message exactly once:

- alert ``ALERTS`` / ``<incident id>``: the incident's alert state (who was told, acks, snoozes) and version
- delivery ``DELIVERY#<incident id>`` / ``<step>#<recipient key>``: one per message, claimed before it is sent
- held ``HELD`` / ``<release>#<delivery>``: messages held for quiet hours, written with their delivery's claim
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from groundswell.adapters.dynamo.table import Table, key
from groundswell.domain.ports import DeliveryLog, HeldMessage, StoredAlertState

MAX_DELIVERY_ATTEMPTS = 3
KEEP_SECONDS = 30 * 86400  # resolved alert states and delivery records, for the timeline and audits


class DeliveryRepository:
    def __init__(self, table: Table):
        self._table = table

    def alert_state(self, incident_id: str) -> StoredAlertState | None:
        item = self._table.get("ALERTS", incident_id)
        return StoredAlertState(incident_id, item["state"]["S"], int(item["version"]["N"])) if item else None

    def open_alert_states(self) -> list[StoredAlertState]:
        """The alert states of incidents not yet resolved (the tick reads these)."""
        return [
            StoredAlertState(item["sk"]["S"], item["state"]["S"], int(item["version"]["N"]))
            for item in self._table.query("ALERTS")
            if item.get("status", {}).get("S") == "open"
        ]

    def save_alert_state(self, incident_id: str, state: str, version: int, *, resolved: bool) -> bool:
        """Writes version ``version + 1`` if the stored one is still ``version`` (0: none); False otherwise."""
        item = {
            **key("ALERTS", incident_id),
            "state": {"S": state},
            "version": {"N": str(version + 1)},
            "status": {"S": "resolved" if resolved else "open"},
        }
        if resolved:
            item["expires_at"] = self._table.expiry(KEEP_SECONDS)
        if version == 0:
            return self._table.put_if(item, "attribute_not_exists(pk)")
        return self._table.put_if(item, "version = :v", ExpressionAttributeValues={":v": {"N": str(version)}})

    def claim(
        self, incident_id: str, step: str, recipient: str, *, payload: str, held_until: datetime | None = None
    ) -> str:
        """Claims one message: ``claimed`` (send it), or the status of the earlier claim (``sending``, ``sent``,
        ``held``, ``failed``): it is someone else's. Held messages also get a ``HELD`` index item."""
        pk, sk = f"DELIVERY#{incident_id}", f"{step}#{recipient}"
        token = uuid.uuid4().hex  # ours: recognised if the claim took effect but its answer was lost
        # a failed earlier attempt may be retried (SQS redelivers the batch) until it has failed
        # MAX_DELIVERY_ATTEMPTS times; an Update (not a Put) keeps the failure count
        update = {
            "Key": key(pk, sk),
            "UpdateExpression": "SET #s = :status, payload = :p, claimed_at = :t, expires_at = :e, claim = :claim",
            "ConditionExpression": "attribute_not_exists(pk) OR (#s = :failed AND failures < :max)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":status": {"S": "held" if held_until else "sending"},
                ":p": {"S": payload},
                ":t": {"S": self._table.stamp()},
                ":e": self._table.expiry(KEEP_SECONDS),
                ":failed": {"S": "failed"},
                ":max": {"N": str(MAX_DELIVERY_ATTEMPTS)},
                ":claim": {"S": token},
            },
        }
        actions: list[Any] = [{"Update": update}]
        if held_until is not None:
            release = held_until.astimezone(UTC).isoformat()
            actions.append(
                {"Put": {"Item": {**key("HELD", f"{release}#{incident_id}#{sk}"), "payload": {"S": payload}}}}
            )
        try:
            if self._table.transact(actions, guards=(0,)):
                return "claimed"
        except (ClientError, BotoCoreError):  # did it take effect before failing (a timeout)? the token says
            found = self._table.get(pk, sk)
            if found and found.get("claim", {}).get("S") == token:
                return "claimed"
            raise
        found = self._table.get(pk, sk)
        return found["status"]["S"] if found else "sending"

    def sent(self, incident_id: str) -> list[tuple[str, str]]:
        """(step, recipient key) of every message sent about the incident."""
        keys = [
            item["sk"]["S"].partition("#")
            for item in self._table.query(f"DELIVERY#{incident_id}")
            if item.get("status", {}).get("S") == "sent"
        ]
        return [(step, recipient) for step, _, recipient in keys]

    def log(self, incident_id: str) -> list[DeliveryLog]:
        """Every message claimed about the incident, in the order they were claimed."""
        found = []
        for item in self._table.query(f"DELIVERY#{incident_id}"):
            step, _, recipient = item["sk"]["S"].partition("#")
            try:
                payload = json.loads(item.get("payload", {}).get("S", "{}"))
                kind, stamp = str(payload.get("kind", "")), payload.get("at")
                at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
            except (ValueError, AttributeError):
                kind, at = "", None
            if at is None:  # claimed before the payload carried its time
                stamp = item.get("finished_at", item.get("claimed_at", {})).get("S")
                at = datetime.fromisoformat(stamp) if stamp else None
            found.append(DeliveryLog(step, recipient, kind, item.get("status", {}).get("S", ""), at))
        return sorted(found, key=lambda entry: (entry.at is None, entry.at or datetime.min.replace(tzinfo=UTC)))

    def finish(self, incident_id: str, step: str, recipient: str, status: str, detail: str = "") -> None:
        """Marks a claimed message ``sent`` (detail: the provider's message id) or ``failed`` (detail: why)."""
        self._table.db.update_item(
            TableName=self._table.name,
            Key=key(f"DELIVERY#{incident_id}", f"{step}#{recipient}"),
            UpdateExpression="SET #s = :s, detail = :d, finished_at = :t ADD failures :f",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": status},
                ":d": {"S": detail[:500]},
                ":t": {"S": self._table.stamp()},
                ":f": {"N": "1" if status == "failed" else "0"},
            },
        )

    def due_held(self, now: datetime) -> list[HeldMessage]:
        """Held messages whose release time has come."""
        upper = now.astimezone(UTC).isoformat() + "~"
        return [
            HeldMessage(item["sk"]["S"], item["payload"]["S"])
            for item in self._table.query("HELD", between=("0", upper))
        ]

    def release_held(self, held_key: str, incident_id: str, step: str, recipient: str) -> bool:
        """Moves a held message to ``sending`` (once: False if another invocation released it first)."""
        move = {
            "Key": key(f"DELIVERY#{incident_id}", f"{step}#{recipient}"),
            "UpdateExpression": "SET #s = :sending",
            "ConditionExpression": "#s = :held",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":sending": {"S": "sending"}, ":held": {"S": "held"}},
        }
        if self._table.transact([{"Update": move}, {"Delete": {"Key": key("HELD", held_key)}}], guards=(0,)):
            return True
        # released by another invocation (no longer held): only the index item is left to clear
        self._table.delete("HELD", held_key)
        return False
