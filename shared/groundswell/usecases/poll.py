"""Poll one (brand, source), within the Lambda's remaining time."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from groundswell.domain.listening import IngestReport, ListeningStore, poll_once
from groundswell.domain.ports import Brands
from groundswell.domain.sentiment import Scorer
from groundswell.domain.sources import Source
from groundswell.observability import logger
from groundswell.usecases.dispatch import PollRequest


def poll(
    request: PollRequest,
    brands: Brands,
    store: ListeningStore,
    source: Source,
    scorer: Scorer,
    *,
    now: datetime,
    failing_threshold: int,
    budget: AbstractContextManager[None] | None = None,
) -> IngestReport | None:
    """Polls one (brand, source); ``None`` when the brand no longer exists or is disabled. ``budget`` bounds
    the fetch with its retries (``http.deadline``), so that a failing poll is still recorded in time."""
    brand = brands.get(request.brand)
    if brand is None or not brand.enabled or brand.source(request.source.value) is None:
        logger.info("poll request for a brand/source no longer watched; dropped", extra=request.model_dump())
        return None
    with budget or nullcontext():
        return poll_once(brand, source, repository=store, scorer=scorer, now=now, failing_threshold=failing_threshold)
