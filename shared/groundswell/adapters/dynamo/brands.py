"""Brand configs: ``BRANDS`` / ``BRAND#<name>``, the config as JSON; ``removed_at`` marks a tombstone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from groundswell.adapters.dynamo.table import Table, key
from groundswell.domain.models import Brand
from groundswell.observability import unreadable


class BrandRepository:
    def __init__(self, table: Table, *, bucket_ttl: timedelta):
        self._table, self._bucket_ttl = table, bucket_ttl

    def put(self, brand: Brand) -> None:
        self._table.put(self._item(brand))

    def put_many(self, brands: Sequence[Brand]) -> None:
        """Bulk import of brand configs."""
        self._table.batch_put([self._item(b) for b in brands])

    def get(self, name: str) -> Brand | None:
        """The brand's config; None when there is none or the brand was removed."""
        item = self._table.get("BRANDS", f"BRAND#{name}")
        return Brand.model_validate_json(item["config"]["S"]) if item and "removed_at" not in item else None

    def list(self, *, include_removed: bool = False) -> list[Brand]:
        """Every brand whose stored config is valid. One that is not (edited by hand, or written by another
        version) is logged and left out, so that it cannot stop polling, detection and alerts for the others.

        ``include_removed``: removed brands too, as paused ones (``enabled: false``); the detector needs them
        so that their absence is not learned as calm if they come back."""
        brands = []
        for item in self._table.query("BRANDS", "BRAND#"):
            removed = "removed_at" in item
            if removed and not include_removed:
                continue
            try:
                brand = Brand.model_validate_json(item["config"]["S"])
                brands.append(brand.model_copy(update={"enabled": False}) if removed else brand)
            except ValidationError as exc:
                unreadable(
                    "brand_config",
                    "brand config is invalid: left out until it is fixed",
                    exc,
                    brand=item["sk"]["S"].removeprefix("BRAND#"),
                    errors=exc.error_count(),
                    field=".".join(str(part) for part in exc.errors()[0]["loc"]),
                )
        return brands

    def remove(self, name: str, now: datetime) -> bool:
        """Removes a brand: its item stays as a tombstone (hidden from everything but the detector, which
        treats it as paused) until the buckets it guards have expired; adding the brand again replaces it.
        False when there is no such brand."""
        expires = int((now + self._bucket_ttl).timestamp())
        return self._table.update_if(
            "BRANDS",
            f"BRAND#{name}",
            "SET removed_at = :at, expires_at = :exp",
            "attribute_exists(pk) AND attribute_not_exists(removed_at)",
            ExpressionAttributeValues={":at": {"S": now.isoformat()}, ":exp": {"N": str(expires)}},
        )

    def _item(self, brand: Brand) -> dict[str, Any]:
        return {
            **key("BRANDS", f"BRAND#{brand.name}"),
            "config": {"S": brand.model_dump_json()},
            "updated_at": {"S": self._table.stamp()},
        }
