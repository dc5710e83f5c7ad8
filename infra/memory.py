"""An in-memory detection repository: the detector's own ``run_cycle`` over buckets held in a dict
(backtests, benchmarks and tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from groundswell.domain.models import Bucket


class MemoryBuckets:
    """One brand's buckets by start time; answers the two reads ``run_cycle`` makes."""

    def __init__(self, buckets: dict[datetime, Bucket]):
        self.stored = buckets

    def buckets(self, brand: str, start: datetime, end: datetime) -> list[Bucket]:
        return [b for m, b in sorted(self.stored.items()) if start <= m < end]

    def buckets_at(self, wanted: Sequence[tuple[str, datetime]]) -> dict[tuple[str, datetime], Bucket]:
        return {(brand, m): self.stored[m] for brand, m in wanted if m in self.stored}
