"""One detection cycle: every brand's state and new buckets in; decisions, incidents and events (with their
outbox entries) out; then the notifier is woken. Under a lease, so that one cycle at a time writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from groundswell.domain.backfill import history_sources
from groundswell.domain.detection.cycle import (
    INCIDENT,
    STATE,
    BrandState,
    pause,
    rebuilt_state,
    run_cycle,
    with_history,
)
from groundswell.domain.detection.drivers import describe
from groundswell.domain.detection.incidents import Incident
from groundswell.domain.models import Brand, Sentiment
from groundswell.domain.ports import Brands, Cursors, DetectorStates, Incidents, Mentions
from groundswell.observability import count, logger, unreadable

LEASE_SECONDS = 150.0  # the detector's 120 s timeout and a margin: a crashed holder frees it by then


class DetectStore(Protocol):
    @property
    def brands(self) -> Brands: ...
    @property
    def detector(self) -> DetectorStates: ...
    @property
    def mentions(self) -> Mentions: ...
    @property
    def incidents(self) -> Incidents: ...
    @property
    def cursors(self) -> Cursors: ...


def detect(store: DetectStore, now: datetime, *, owner: str, wake: Callable[[], None]) -> dict[str, int]:
    """One detection cycle at ``now``, under the detector's lease: the single writer of detector state even
    where the function has no reserved concurrency (``DetectorReservedConcurrency=0``). A cycle that finds the
    lease held skips (the next one catches up on every bucket since the last). ``wake``: tell the notifier."""
    if not store.detector.take_lease("detector", owner, LEASE_SECONDS, now):
        logger.warning("another detection cycle is running: this one skips, the next catches up")
        count("DetectorCyclesSkipped")
        return {"brands": 0, "buckets": 0, "transitions": 0, "skipped": 1}
    try:
        return _cycle(store, now, wake)
    finally:
        try:  # the cycle's work is done: a lease that cannot be released runs out on its own
            store.detector.release_lease("detector", owner, now)
        except Exception as exc:
            logger.warning("detector lease not released; it expires by itself", extra={"error": str(exc)[:300]})


def _cycle(store: DetectStore, now: datetime, wake: Callable[[], None]) -> dict[str, int]:
    """Every enabled brand: states in, decisions, states and incidents out (a paused brand's state is only
    marked paused, once)."""
    every = store.brands.list(include_removed=True)  # a removed brand is paused: its absence is not calm
    unobserved = store.detector.unobserved()  # every source silent: like paused, nothing to learn from
    brands = [b for b in every if b.enabled and b.name not in unobserved]
    stored = store.detector.states([b.name for b in every])
    states = {b.name: _state(b.name, stored[b.name], store, now) for b in brands}
    _take_backfilled_history(brands, states, store, now)
    watched = {b.name for b in brands}
    newly_paused = _newly_paused([b.name for b in every if b.name not in watched], stored, now)
    for name in unobserved & set(newly_paused):
        logger.warning(
            "brand unobserved (every source silent): its empty buckets are not learned", extra={"brand": name}
        )
    report = run_cycle(states, now, store.mentions, settings={b.name: b.detection for b in brands})
    published = 0
    configs = {b.name: b for b in brands}
    for transition in report.transitions:
        incident = transition.incident
        if transition.kind in ("open", "escalate", "update"):
            incident = _with_drivers(incident, configs[incident.brand], store)
            state = report.states[incident.brand]
            for held in ("incident", "attention"):  # keep the state's later buckets
                current = getattr(state, held)
                if current is not None and current.id == incident.id:
                    setattr(
                        state,
                        held,
                        replace(current, drivers=incident.drivers, sources=incident.sources, authors=incident.authors),
                    )
        bucket = incident.resolved_at or incident.peak_at
        as_json = json.dumps(incident.__dict__, default=str)
        if store.incidents.record(
            incident.brand, incident.id, transition.kind, bucket, as_json, resolved=transition.kind == "resolve"
        ):
            published += 1
            logger.info(
                "incident " + transition.kind,
                extra={
                    "incident": incident.id,
                    "severity": incident.severity,
                    "observed": incident.observed,
                    "expected": round(incident.expected, 2),
                },
            )
            count("IncidentTransitions", 1, kind=transition.kind)
    # events first, state last: if the function stops in between, the next cycle redoes these buckets and the
    # events it finds already stored are not published again
    states_out = {**report.states, **newly_paused}
    store.detector.save_states({name: STATE.dump_json(state) for name, state in states_out.items()})
    if published:
        wake()
    return {"brands": report.brands, "buckets": report.buckets, "transitions": published}


HISTORY_WAIT_BUCKETS = 2 * 288  # a brand learned this long without its backfill stops waiting for it


def _take_backfilled_history(
    brands: list[Brand], states: dict[str, BrandState | None], store: DetectStore, now: datetime
) -> None:
    """Brands whose backfill completed since the last cycle relearn from their history (``with_history``): a
    baseline at once, instead of a new brand's strict first day. Read only for young brands still waiting."""
    waiting = [
        b.name
        for b in brands
        if b.backfill_days
        and history_sources(b)
        and (
            (state := states[b.name]) is None
            or (state.history_from is None and state.detector.negative.baseline.observed < HISTORY_WAIT_BUCKETS)
        )
    ]
    if not waiting:
        return
    for name, start in store.cursors.histories(waiting).items():
        states[name] = with_history(states[name], start, now)
        logger.info("brand history backfilled: relearning from it", extra={"brand": name, "from": start.isoformat()})


def _newly_paused(paused: list[str], stored: dict[str, bytes | None], now: datetime) -> dict[str, BrandState]:
    """The states of paused brands that the detector has not seen paused yet, marked (``cycle.pause``). An
    unreadable one is left alone: it is rebuilt when the brand is enabled again."""
    marked = {}
    for brand in paused:
        raw = stored.get(brand)
        try:
            state = STATE.validate_json(raw) if raw else None
        except ValidationError:
            continue
        if state is not None and pause(state, now):
            marked[brand] = state
    return marked


def _state(brand: str, raw: bytes | None, store: DetectStore, now: datetime) -> BrandState | None:
    """The brand's stored detector state; one that cannot be read is rebuilt (``cycle.rebuilt_state``) with
    its open incident, so one bad item never stops the cycle for every brand nor alerts twice."""
    if raw is None:
        return None
    try:
        return STATE.validate_json(raw)
    except ValidationError as exc:
        problem: Exception = exc if raw else ValueError("not zlib data")
        unreadable(
            "detector_state", "detector state unreadable: rebuilding it from the stored buckets", problem, brand=brand
        )
    crisis, attention = None, None
    for stored in reversed(store.incidents.history(brand)):  # newest first: the latest of each kind is open or none
        try:
            incident = INCIDENT.validate_json(stored)
        except ValidationError as exc:
            logger.error(
                "stored incident unreadable: the rebuilt state starts without it",
                extra={"brand": brand, "problem": exc.errors()[0]["msg"]},
            )
            break
        if incident.kind == "attention":
            attention = attention or incident
        else:
            crisis = crisis or incident
        if crisis and attention:
            break
    state = rebuilt_state(crisis if crisis and crisis.resolved_at is None else None, now)
    state.attention = attention if attention and attention.resolved_at is None and not state.incident else None
    return state


def _with_drivers(incident: Incident, brand: Brand, store: DetectStore) -> Incident:
    """The incident with its drivers: its negative mentions (``Incident.evidence_span``) against the day
    before them; an attention notice's: all its mentions."""
    start, end = incident.evidence_span()
    every = incident.kind == "attention"
    spike = [m for m in store.mentions.mentions(brand.name, start, end) if every or m.sentiment is Sentiment.NEGATIVE]
    before = store.mentions.mentions(brand.name, start - timedelta(days=1), start)
    baseline = [m for m in before if every or m.sentiment is Sentiment.NEGATIVE]
    terms, sources = describe(spike, baseline, [*brand.terms.keywords, *brand.terms.handles, *brand.terms.hashtags])
    authors = len({m.author.casefold() for m in spike}) if every else None
    return replace(incident, drivers=terms, sources=sources, authors=authors)
