"""Day-zero history: when a brand (or a source of it) is added, the days before are fetched from each source
that can search back in time, one brand-day per queued message, and stored as ordinary buckets.

A day is fetched newest page first; after each page is stored its progress is saved, so a message redelivered
after a timeout resumes where it stopped (and the mention guard makes re-storing a page harmless). The forward
cursor of the poller is never touched: the backfill covers only the days before the brand was added. Once
every day of every source that can backfill is done, the brand's history starts at the earliest of them and
the detector learns it (``detection.cycle.with_history``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from groundswell.domain.models import BRAND_NAME_PATTERN, Brand, SourceType
from groundswell.domain.sources import Cursor, FetchResult

DEFAULT_DAYS = 7
MAX_DAYS = 14
# the sources with a ``history``: Bluesky searchPosts since/until, Algolia created_at_i ranges, Mastodon tag
# timelines paged back with max_id, RSS as far as each feed goes (a replay file is not history)
HISTORY_SOURCES = frozenset({SourceType.BLUESKY, SourceType.HACKERNEWS, SourceType.MASTODON, SourceType.RSS})
MARKER = "backfill"  # the progress record (under the cursors) that says the brand's history is complete


class BackfillRequest(BaseModel):
    """One brand-day of one source's history, as queued on the poll queue (``kind`` tells it from a poll)."""

    kind: str = Field(default="backfill", pattern="^backfill$")
    brand: str = Field(pattern=BRAND_NAME_PATTERN)
    source: SourceType
    day: date  # the UTC day [day 00:00, day+1 00:00), cut at ``until``
    until: datetime  # when the brand (or source) was added: the poller covers what comes after


@runtime_checkable
class HistorySource(Protocol):
    """A source that can search back in time."""

    kind: str

    def history(self, brand: Brand, since: datetime, until: datetime, cursor: Cursor | None) -> FetchResult:
        """One page of mentions in [since, until), newest first; ``cursor`` continues an earlier page's. The
        result is ``truncated`` while more pages remain, with the cursor to continue from."""
        ...


def history_sources(brand: Brand) -> list[SourceType]:
    return [SourceType(s.type) for s in brand.sources if s.type in HISTORY_SOURCES]


def plan(
    brand: Brand, sources: Sequence[SourceType], added: datetime, days: int = DEFAULT_DAYS
) -> list[BackfillRequest]:
    """The requests for ``days`` days before ``added`` from each of ``sources``, newest day first (the days
    nearest the present matter most to a brand added on a bad day)."""
    days = max(0, min(days, MAX_DAYS))
    first = added.astimezone(UTC).date()
    return [
        BackfillRequest(brand=brand.name, source=source, day=first - timedelta(days=back), until=added)
        for back in range(days + 1)  # the day it was added, up to ``added``, and the days before
        for source in sources
    ]


def queued_key(source: SourceType) -> str:
    """Where it is noted that a source's backfill was queued (beside the days' progress, under ``MARKER``)."""
    return f"{MARKER}-queued/{source.value}"


def not_yet_queued(brand: Brand, states: dict[str, dict[str, object]]) -> list[SourceType]:
    """The brand's history sources whose backfill was never queued nor begun (``states``: its cursor states
    under ``MARKER``). Decided by what was queued, not by the brand as stored before: a ``brands add`` whose
    queueing failed after the brand was saved queues it when run again."""
    begun = {name.split("/")[1] for name in states if "/" in name}
    return [s for s in history_sources(brand) if s.value not in begun]


def day_span(request: BackfillRequest) -> tuple[datetime, datetime]:
    start = datetime(request.day.year, request.day.month, request.day.day, tzinfo=UTC)
    return start, min(start + timedelta(days=1), request.until)


def progress_key(request: BackfillRequest) -> str:
    """Where a brand-day's progress is kept (beside the brand's cursors)."""
    return f"{MARKER}/{request.source.value}/{request.day.isoformat()}"


def history_from(requests: Sequence[BackfillRequest], done: set[str]) -> datetime | None:
    """When every request is done, where the brand's history starts (the earliest day); else None."""
    if not requests or any(progress_key(r) not in done for r in requests):
        return None
    return min(day_span(r)[0] for r in requests)


def progress_line(states: dict[str, dict[str, object]]) -> str:
    """``groundswell brands show``'s line: per source, days done of days queued, mentions stored, and where
    the history starts once complete (``states``: the brand's cursor states under ``MARKER``)."""
    marker = states.get(MARKER, {})
    per_source: dict[str, list[int]] = {}  # source -> [days begun, days done, mentions stored, days queued]
    for name, state in states.items():
        parts = name.split("/")
        if len(parts) == 2 and parts[0] == f"{MARKER}-queued":
            queued = state.get("days")
            per_source.setdefault(parts[1], [0, 0, 0, 0])[3] = queued if isinstance(queued, int) else 0
        elif len(parts) == 3:
            tally = per_source.setdefault(parts[1], [0, 0, 0, 0])
            tally[0] += 1
            tally[1] += 1 if state.get("done") else 0
            stored = state.get("stored")
            tally[2] += stored if isinstance(stored, int) else 0
    if not per_source:
        return "backfill: none queued"
    sources = "; ".join(
        f"{s} {done}/{max(begun, queued)} days, {stored} mentions"
        for s, (begun, done, stored, queued) in per_source.items()
    )
    start = marker.get("history_from")
    return f"backfill: {sources}" + (f"; history from {start}" if isinstance(start, str) else "; in progress")
