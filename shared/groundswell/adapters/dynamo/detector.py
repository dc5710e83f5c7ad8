"""The detector's own items:

- state ``BRAND#<name>`` / ``DETECTOR``: its streaming state (zlib-compressed JSON, binary)
- unobserved ``WATCH`` / ``UNOBSERVED``: the brands with every source silent, as the dispatcher last saw them
- lease ``LEASE#<what>`` / ``LEASE``: the single-writer lease of a detection cycle
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime

from groundswell.adapters.dynamo.table import Table, key

LEASE_KEEP_SECONDS = 86400  # a lease item outlives its holder by a day, then expires


class DetectorRepository:
    def __init__(self, table: Table):
        self._table = table

    def unobserved(self) -> set[str]:
        """Brands whose every polled source is silent, as the dispatcher last saw them."""
        return {brand for item in self._table.query("WATCH", "UNOBSERVED") for brand in item["brands"]["SS"]}

    def set_unobserved(self, brands: set[str]) -> None:
        """Replaces the set (the dispatcher is its only writer); an empty set deletes the item."""
        if brands:
            self._table.put(
                {
                    **key("WATCH", "UNOBSERVED"),
                    "brands": {"SS": sorted(brands)},
                    "updated_at": {"S": self._table.stamp()},
                }
            )
        else:
            self._table.delete("WATCH", "UNOBSERVED")

    def states(self, brands: Sequence[str]) -> dict[str, bytes | None]:
        """Each brand's detector state JSON (None if it has none yet; empty if the stored bytes do not
        decompress: the caller rebuilds that brand's state), 100 per BatchGetItem."""
        found: dict[str, bytes | None] = dict.fromkeys(brands)
        for item in self._table.batch_get([key(f"BRAND#{b}", "DETECTOR") for b in brands], consistent=True):
            try:
                state = zlib.decompress(item["state"]["B"])
            except zlib.error:
                state = b""
            found[item["pk"]["S"].removeprefix("BRAND#")] = state
        return found

    def save_states(self, states: dict[str, bytes]) -> None:
        """Saves every brand's state, compressed (~1.8 KB instead of ~7.4 KB: 2 WRU instead of 8), in batches of
        25. Unconditional: one cycle at a time writes (the lease below)."""
        self._table.batch_put(
            [
                {**key(f"BRAND#{brand}", "DETECTOR"), "state": {"B": zlib.compress(state, 6)}}
                for brand, state in states.items()
            ]
        )

    def take_lease(self, what: str, owner: str, seconds: float, now: datetime) -> bool:
        """Holds ``what`` (e.g. the detector's single-writer lease) for ``seconds`` from ``now``: True when it was
        free, expired or already ours."""
        at = now.timestamp()
        return self._table.put_if(
            {
                **key(f"LEASE#{what}", "LEASE"),
                "owner": {"S": owner},
                "until": {"N": f"{at + seconds:.3f}"},
                "expires_at": {"N": str(int(at + seconds) + LEASE_KEEP_SECONDS)},
            },
            "attribute_not_exists(pk) OR #until < :now OR #owner = :me",
            ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
            ExpressionAttributeValues={":now": {"N": f"{at:.3f}"}, ":me": {"S": owner}},
        )

    def release_lease(self, what: str, owner: str, now: datetime) -> None:
        """Lets ``what`` go if we still hold it (a put that expires it, so no delete permission is needed)."""
        self._table.put_if(
            {
                **key(f"LEASE#{what}", "LEASE"),
                "owner": {"S": owner},
                "until": {"N": "0"},
                "expires_at": {"N": str(int(now.timestamp()) + LEASE_KEEP_SECONDS)},
            },
            "#owner = :me",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":me": {"S": owner}},
        )
