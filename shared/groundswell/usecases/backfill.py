"""Backfill one brand-day of one source (``domain.backfill``): page by page within the Lambda's time, each page
stored before its progress is saved; when the brand's last day is done, its history is marked complete."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from groundswell.domain.backfill import (
    MARKER,
    BackfillRequest,
    HistorySource,
    day_span,
    history_from,
    progress_key,
)
from groundswell.domain.listening import IngestReport, ListeningStore, ingest
from groundswell.domain.models import Brand
from groundswell.domain.ports import CursorConflict
from groundswell.domain.sentiment import Scorer
from groundswell.observability import count, logger


@dataclass
class BackfillReport:
    pages: int = 0
    stored: int = 0
    done: bool = False
    history_from: datetime | None = None  # set when this day completed the brand's history


def backfill_day(
    request: BackfillRequest,
    brand: Brand | None,
    store: ListeningStore,
    source: object,
    scorer: Scorer,
    *,
    plan: Sequence[BackfillRequest],
    seconds_left: float | None = None,
) -> BackfillReport:
    """Fetches and stores the day's pages from where an earlier attempt stopped. Out of time, it saves its
    progress and raises :class:`BackfillUnfinished` (the message is redelivered and resumes). ``plan``: every
    request of the brand's backfill (to tell when its history is complete); ``brand``: as stored now (None:
    removed)."""
    report = BackfillReport()
    if brand is None or not brand.enabled or not isinstance(source, HistorySource):
        logger.info("backfill request for a brand/source that cannot be backfilled; dropped", extra=_about(request))
        return report
    key = progress_key(request)
    record = store.cursors.load(brand.name, key)
    state = dict(record.state or {})
    version = record.version
    since, until = day_span(request)
    deadline = None if seconds_left is None else time.monotonic() + seconds_left
    while not state.get("done"):
        if deadline is not None and time.monotonic() > deadline:
            raise BackfillUnfinished(f"{key} of {brand.name}: out of time after {report.pages} page(s); resumes")
        page = source.history(brand, since, until, state.get("cursor"))
        stored: IngestReport = ingest(
            page.mentions, page.problems, scorer=scorer, repository=store, source=source.kind, may_overlap=True
        )
        report.pages, report.stored = report.pages + 1, report.stored + stored.stored
        state = {
            "cursor": page.cursor,
            "done": not page.truncated,
            "stored": int(state.get("stored", 0)) + stored.stored,
        }
        try:
            store.cursors.save(brand.name, key, state, version, polled_at=until)
        except CursorConflict:  # a redelivered copy of this message is at it too: it carries on
            logger.info("backfill day taken over by another attempt", extra=_about(request))
            return report
        version += 1
    count("BackfillDays", 1, source=source.kind)
    report.done = True
    report.history_from = _complete(brand.name, store, plan)
    return report


class BackfillUnfinished(RuntimeError):
    """The day is not done within this invocation: its progress is saved, and the redelivery resumes."""


def _complete(brand: str, store: ListeningStore, plan: Sequence[BackfillRequest]) -> datetime | None:
    """Marks the brand's history complete once every day of its plan is done (idempotent); its days' progress
    is read with one query."""
    progress = store.cursors.states_under(brand, MARKER)
    start = history_from(plan, {key for key, state in progress.items() if state.get("done")})
    if start is None:
        return None
    marker = store.cursors.load(brand, MARKER)
    if (marker.state or {}).get("history_from") != start.isoformat():
        with contextlib.suppress(CursorConflict):  # another day's message completed it at once: the same value
            store.cursors.save(brand, MARKER, {"history_from": start.isoformat()}, marker.version, polled_at=start)
        logger.info("backfill complete", extra={"brand": brand, "history_from": start.isoformat()})
    return start


def _about(request: BackfillRequest) -> dict[str, str]:
    return {"brand": request.brand, "source": request.source.value, "day": request.day.isoformat()}
