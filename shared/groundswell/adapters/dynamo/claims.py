"""Things done once, counted or remembered, each an item of its own:

- claim ``CLAIM#<what>`` / ``CLAIM``: once-only work (a daily summary, a notice to the operator); TTL
- SMS counters ``CLAIM#sms#<day>#<recipient or all>`` / ``CLAIM``: parts sent, against the caps; TTL
- opt-out ``CLAIM#optout#<recipient>`` / ``CLAIM``: a recipient who replied STOP
- link ``LINK#<id>`` / ``LINK``: an acknowledge/snooze link's record; TTL
- nonce ``NONCE#<digest>`` / ``NONCE``: the push replay guard; TTL
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from groundswell.adapters.dynamo.table import Table, key

OPT_OUT_SECONDS = 365 * 86400
SMS_COUNTER_SECONDS = 3 * 86400


class ClaimRepository:
    def __init__(self, table: Table):
        self._table = table

    def claim_once(self, what: str, ttl_seconds: int) -> bool:
        """True the first time ``what`` is claimed (a daily summary, a notice to the operator)."""
        item = {**key(f"CLAIM#{what}", "CLAIM"), "expires_at": self._table.expiry(ttl_seconds)}
        return self._table.put_if(item, "attribute_not_exists(pk)")

    def take_sms_budget(self, recipient: str, day: str, parts: int, *, per_recipient: int, per_day: int) -> bool:
        """Counts ``parts`` SMS parts against the recipient's and the whole day's caps, atomically; False (and
        nothing counted) when either cap would be exceeded. Only a cap's own condition means that: throttling is
        retried, then raised (never "cap reached")."""
        expires = self._table.expiry(SMS_COUNTER_SECONDS)

        def counter(who: str, cap: int) -> dict[str, Any]:
            return {
                "Update": {
                    "Key": key(f"CLAIM#sms#{day}#{who}", "CLAIM"),
                    "UpdateExpression": "ADD parts :n SET expires_at = :e",
                    "ConditionExpression": "attribute_not_exists(parts) OR parts <= :room",
                    "ExpressionAttributeValues": {
                        ":n": {"N": str(parts)},
                        ":e": expires,
                        ":room": {"N": str(cap - parts)},
                    },
                }
            }

        return self._table.transact([counter(recipient, per_recipient), counter("all", per_day)], guards=(0, 1))

    def mark_opted_out(self, recipient: str) -> bool:
        """Records that an SMS recipient replied STOP; True the first time (tell the operator once)."""
        return self.claim_once(f"optout#{recipient}", ttl_seconds=OPT_OUT_SECONDS)

    def opted_out(self, recipients: Sequence[str]) -> set[str]:
        keys = [key(f"CLAIM#optout#{r}", "CLAIM") for r in recipients]
        return {item["pk"]["S"].removeprefix("CLAIM#optout#") for item in self._table.batch_get(keys, consistent=True)}

    def clear_opted_out(self, recipient: str) -> None:
        """The recipient texted START: SMS may reach them again."""
        self._table.delete(f"CLAIM#optout#{recipient}", "CLAIM")

    def put_link(self, link_id: str, record: str, expires_at: datetime) -> None:
        item = {
            **key(f"LINK#{link_id}", "LINK"),
            "record": {"S": record},
            "expires_at": {"N": str(int(expires_at.timestamp()))},
        }
        self._table.db.put_item(TableName=self._table.name, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def get_link(self, link_id: str) -> str | None:
        item = self._table.get(f"LINK#{link_id}", "LINK")
        return item["record"]["S"] if item else None

    def nonce_seen(self, digest: str) -> bool:
        """Whether a signed request was already accepted (its nonce claimed)."""
        return self._table.get(f"NONCE#{digest}", "NONCE") is not None

    def claim_nonce(self, digest: str, ttl_seconds: int) -> bool:
        """True the first time a signed request is seen; False for a replay of it."""
        item = {**key(f"NONCE#{digest}", "NONCE"), "expires_at": self._table.expiry(ttl_seconds)}
        return self._table.put_if(item, "attribute_not_exists(pk)")
