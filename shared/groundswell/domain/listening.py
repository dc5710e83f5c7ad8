"""Listening: score and store mentions (exactly once), and poll one source of one brand.

Plain functions over a repository and a scorer; the handlers and the CLI call these.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from groundswell.domain.models import Brand, Mention
from groundswell.domain.ports import CursorConflict, Cursors, Mentions
from groundswell.domain.sentiment import Scorer
from groundswell.domain.sources import Problem, Source
from groundswell.observability import count, logger, milliseconds


class MentionStore(Protocol):
    """Where ingested mentions go: stored and counted once."""

    @property
    def mentions(self) -> Mentions: ...


class ListeningStore(MentionStore, Protocol):
    """What polling needs: the mentions, and the sources' cursors."""

    @property
    def cursors(self) -> Cursors: ...


@dataclass
class IngestReport:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    repaired: int = 0
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False


class SourceFailing(RuntimeError):
    """A source failed this poll; its cursor did not move (the message carries the cause)."""


def score_mentions(mentions: Sequence[Mention], scorer: Scorer) -> list[Mention]:
    """Every mention with a label and score; a label given by the input (replay/push) is kept as is."""
    to_score = [m for m in mentions if m.sentiment is None]
    scores = iter(scorer.score([m.text for m in to_score]))
    out = []
    for mention in mentions:
        if mention.sentiment is None:
            label, value = next(scores)
            mention = mention.model_copy(update={"sentiment": label, "sentiment_score": value})
        out.append(mention)
    return out


def ingest(
    mentions: Sequence[Mention],
    problems: Sequence[Problem],
    *,
    scorer: Scorer,
    repository: MentionStore,
    source: str,
    may_overlap: bool = True,
) -> IngestReport:
    """Scores and stores a batch, reports each skipped/repaired item as a structured warning and a metric."""
    report = IngestReport(fetched=len(mentions), problems=list(problems))
    for problem in problems:
        logger.warning(
            "mention problem",
            extra={
                "source": problem.source,
                "item": problem.item[:200],
                "reason": problem.reason,
                "action": problem.action,
            },
        )
    kinds = Counter("repaired" if p.action == "repaired" else "skipped" for p in problems)
    report.skipped, report.repaired = kinds["skipped"], kinds["repaired"]
    if report.skipped:
        count("MentionsSkipped", report.skipped, source=source)
    if report.repaired:
        count("MentionsRepaired", report.repaired, source=source)
    if mentions:
        stored = repository.mentions.store(score_mentions(mentions, scorer), may_overlap=may_overlap)
        report.stored, report.duplicates = stored.stored, stored.duplicates
        count("MentionsIngested", stored.stored, source=source)
        if stored.duplicates:
            count("MentionsDuplicate", stored.duplicates, source=source)
    return report


def poll_once(
    brand: Brand,
    source: Source,
    *,
    repository: ListeningStore,
    scorer: Scorer,
    now: datetime,
    failing_threshold: int = 3,
) -> IngestReport:
    """Fetches what is new since the cursor, stores it, then (only then) advances the cursor.

    A failing fetch records the failure and raises :class:`SourceFailing` (the message is retried and, in
    the end, dead-lettered); the cursor stays, so nothing is skipped once the source recovers.
    """
    cursor = repository.cursors.load(brand.name, source.kind)
    started = time.perf_counter()
    try:
        result = source.fetch(brand, cursor.state, now)
    except Exception as exc:
        failures = repository.cursors.record_failure(brand.name, source.kind, f"{type(exc).__name__}: {exc}")
        count("SourceErrors", 1, source=source.kind)
        log = logger.error if failures >= failing_threshold else logger.warning
        log(
            "source poll failed",
            extra={
                "brand": brand.name,
                "source": source.kind,
                "consecutive_failures": failures,
                "error": str(exc)[:500],
            },
        )
        raise SourceFailing(f"{source.kind} failed for {brand.name} ({failures} in a row): {exc}") from exc
    finally:
        milliseconds("SourceLatency", (time.perf_counter() - started) * 1000, source=source.kind)
    report = ingest(
        result.mentions,
        result.problems,
        scorer=scorer,
        repository=repository,
        source=source.kind,
        may_overlap=result.may_overlap,
    )
    report.truncated = result.truncated
    try:
        repository.cursors.save(brand.name, source.kind, result.cursor, cursor.version, polled_at=now)
    except CursorConflict:
        logger.info(
            "cursor moved by a concurrent poll; keeping theirs", extra={"brand": brand.name, "source": source.kind}
        )
    logger.info(
        "source polled",
        extra={
            "brand": brand.name,
            "source": source.kind,
            "fetched": report.fetched,
            "stored": report.stored,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "truncated": report.truncated,
        },
    )
    return report
