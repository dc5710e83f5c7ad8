"""Dispatch: one poll request per watched (brand, source), and the sources that went silent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, Field

from groundswell.domain.models import BRAND_NAME_PATTERN, Brand, SourceType
from groundswell.domain.ports import Brands, Cursors
from groundswell.observability import count, logger

POLLED_SOURCES = {SourceType.BLUESKY, SourceType.MASTODON, SourceType.HACKERNEWS, SourceType.RSS, SourceType.REPLAY}


class PollRequest(BaseModel):
    """The message the dispatcher puts on the poll queue (a contract: tests/unit/test_contracts.py)."""

    brand: str = Field(pattern=BRAND_NAME_PATTERN)
    source: SourceType
    now: datetime | None = Field(default=None, description="simulated clock; absent in AWS (real time)")


class PollQueue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int: ...


class Watch(Protocol):
    def set_unobserved(self, brands: set[str]) -> None: ...


def poll_requests(brands: list[Brand], now: datetime | None = None) -> list[PollRequest]:
    """One request per enabled brand and polled source."""
    return [
        PollRequest(brand=b.name, source=SourceType(s.type), now=now)
        for b in brands
        if b.enabled
        for s in b.sources
        if s.type in POLLED_SOURCES
    ]


def dispatch(
    brands: Brands,
    cursors: Cursors,
    watch: Watch,
    queue: PollQueue,
    *,
    now: datetime,
    silent_minutes: int,
    simulated: bool,
) -> int:
    """Puts one poll request per (brand, source) on the poll queue; then stores the brands with every source
    silent (the detector does not learn their empty buckets). ``simulated``: the requests carry ``now``."""
    requests = poll_requests(brands.list(), now if simulated else None)
    silent = report_silent_sources(requests, cursors, now, silent_minutes)
    sent = queue.send_all([r.model_dump_json(exclude_none=True) for r in requests])
    count("PollsDispatched", sent)
    try:  # after the polls, which matter more; the next cycle writes it again
        watch.set_unobserved(unobserved(requests, silent))
    except Exception as exc:
        logger.error("could not store the brands with every source silent", extra={"error": str(exc)[:300]})
    return sent


def report_silent_sources(
    requests: list[PollRequest], cursors: Cursors, now: datetime, minutes: int
) -> list[tuple[str, str]]:
    """(brand, source) pairs watched but not polled successfully for ``minutes``: the metric ``SilentSources``
    (its alarm) and a warning naming them. Failing sources show here as well as in ``SourceErrors``; a stuck
    queue or a stopped schedule shows only here."""
    limit = now - timedelta(minutes=minutes)
    pairs = [(r.brand, r.source.value) for r in requests]
    last = cursors.last_successes(pairs) if pairs else {}
    silent = [pair for pair in pairs if pair in last and last[pair] < limit]
    count("SilentSources", len(silent))
    if silent:
        logger.warning("sources silent", extra={"silent": [f"{b}/{s}" for b, s in silent], "minutes": minutes})
    return silent


def unobserved(requests: list[PollRequest], silent: list[tuple[str, str]]) -> set[str]:
    """Brands with every polled source silent: nothing is observed, so their empty buckets are missing data,
    not calm (the detector treats them as paused until a source comes back)."""
    polled: dict[str, set[str]] = {}
    for request in requests:
        polled.setdefault(request.brand, set()).add(request.source.value)
    quiet: dict[str, set[str]] = {}
    for brand, source in silent:
        quiet.setdefault(brand, set()).add(source)
    return {brand for brand, sources in polled.items() if quiet.get(brand) == sources}
