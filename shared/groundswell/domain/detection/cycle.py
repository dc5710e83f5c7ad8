"""One detection cycle for many brands: catch up each brand's state on its new buckets, decide for all brands
at once, control false discoveries across brands, and move incidents.

Pure domain code over a repository (no boto3): the detector function and the local runner call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter

from groundswell.domain.detection.brand import BrandDetector, BrandScan, Decision, decide
from groundswell.domain.detection.evidence import benjamini_hochberg
from groundswell.domain.detection.incidents import (
    ATTENTION_FACTOR,
    SENSITIVITY,
    Incident,
    OnsetTracker,
    Transition,
    advance,
    strength,
)
from groundswell.domain.models import BUCKET_SECONDS, Bucket, DetectionSettings, bucket_start
from groundswell.domain.ports import Buckets

PLANNED_FACTOR = 100.0  # during a planned event, the p-value needed to open is this much smaller, and the
# sustained-shift test (the CUSUM, whose capped p-value would pass any threshold) is left out
LAG = timedelta(minutes=5)  # a bucket is judged once it is complete and its poll has had time to land
FIRST_LOOKBACK = timedelta(days=2)  # a brand's first cycle learns from up to two days of stored buckets ...
MAX_HISTORY = timedelta(days=15)  # ... or from its backfilled history (``history_from``), at most this far back
BUCKETS_PER_DAY = 86400 // BUCKET_SECONDS


@dataclass
class BrandState:
    """Everything the detector keeps for one brand between cycles."""

    detector: BrandDetector = field(default_factory=BrandDetector)
    onsets: OnsetTracker = field(default_factory=OnsetTracker)
    incident: Incident | None = None
    last_bucket: datetime | None = None
    judge_from: datetime | None = None  # buckets before it are learned from, not judged (see ``rebuilt_state``)
    paused_at: datetime | None = None  # paused (``enabled: false``) or unobserved since then: see ``pause``
    history_from: datetime | None = None  # a new brand's backfilled history starts here: learned, not judged
    attention: Incident | None = None  # an open attention notice (never while a crisis incident is open)
    attention_onsets: OnsetTracker = field(default_factory=OnsetTracker)


STATE = TypeAdapter(BrandState)
INCIDENT = TypeAdapter(Incident)


def pause(state: BrandState, now: datetime) -> bool:
    """Notes that nothing is observed for the brand (paused by its owner, or every source silent); True if the
    state changed and must be saved. When it comes back, its next cycle skips the span: those buckets are empty
    because nothing was polled, and learning them as calm would lower its baseline and raise false alerts once
    mentions flow again."""
    if state.paused_at is not None:
        return False
    state.paused_at = bucket_start(now - LAG)
    return True


def rebuilt_state(open_incident: Incident | None, now: datetime) -> BrandState:
    """A fresh state for a brand whose stored one cannot be read (corrupted, or written by an incompatible
    version). Its next cycle relearns the baseline from up to ``FIRST_LOOKBACK`` of stored buckets, like a new
    brand's, but judges only the bucket that cycle would judge anyway: the earlier ones were judged before, and
    judging them again would resolve the open incident on calm hours before it or open a second one. The open
    incident, if any, is carried over from the stored incidents."""
    until = bucket_start(now - LAG)
    return BrandState(incident=open_incident, judge_from=until - timedelta(seconds=BUCKET_SECONDS))


@dataclass
class CycleReport:
    brands: int = 0
    buckets: int = 0
    transitions: list[Transition] = field(default_factory=list)
    states: dict[str, BrandState] = field(default_factory=dict)


def run_cycle(
    states: dict[str, BrandState | None],
    now: datetime,
    repository: Buckets,
    *,
    settings: dict[str, DetectionSettings] | None = None,
) -> CycleReport:
    """Advances every brand's state to the last complete bucket before ``now - LAG``; ``settings`` per brand
    (sensitivity preset, minimum volume, planned events; defaults otherwise)."""
    settings = settings or {}
    default = DetectionSettings()
    until = bucket_start(now - LAG)
    report = CycleReport()
    pending: list[tuple[str, datetime]] = []
    scans: list[BrandScan] = []
    step = timedelta(seconds=BUCKET_SECONDS)
    for state in states.values():
        if state and state.paused_at is not None:  # back from a pause: nothing was polled meanwhile (``pause``)
            if state.last_bucket is not None:
                state.last_bucket = max(state.last_bucket, until - 2 * step)
            state.paused_at = None
    # brands with a state need known bucket keys: one BatchGetItem per 100, not one Query per brand
    wanted = [
        (brand, moment)
        for brand, state in states.items()
        if state and state.last_bucket
        for moment in _moments(max(state.last_bucket + step, until - FIRST_LOOKBACK), until)
    ]
    known = repository.buckets_at(wanted) if wanted else {}
    for brand, previous in states.items():
        state = previous or BrandState()
        if state.last_bucket is None:  # a new brand: learn from its first stored bucket on, not from zeros
            stored = {b.start: b for b in repository.buckets(brand, _lookback(state, until), until)}
            start = min(stored, default=until)
        else:
            start = max(state.last_bucket + step, until - FIRST_LOOKBACK)
            stored = {m: known[(brand, m)] for m in _moments(start, until) if (brand, m) in known}
        moments = _moments(start, until)
        buckets = [stored.get(moment) or Bucket(brand=brand, start=moment) for moment in moments]  # missing: empty
        if buckets:
            scans.append(
                state.detector.scan(
                    moments,
                    [b.total for b in buckets],
                    [b.negative for b in buckets],
                    [b.negative_authors for b in buckets],
                )
            )
            pending.extend((brand, moment) for moment in moments)
        if start < until:
            state.last_bucket = until - timedelta(seconds=BUCKET_SECONDS)
        report.states[brand] = state
    report.brands = len(states)
    report.buckets = len(pending)
    if not pending:
        return report
    columns = BrandScan.joined(scans)
    configs = [settings.get(brand, default) for brand, _ in pending]
    minimums = [config.min_negative for config in configs]
    sustained = [not config.planned_at(moment) for config, (_, moment) in zip(configs, pending, strict=True)]
    decision = decide(columns, minimums, sustained=sustained)
    block_end = {brand: row + 1 for row, (brand, _) in enumerate(pending)}  # each brand's rows are contiguous
    for moment, rows in _by_moment(pending):  # bucket by bucket: the FDR across brands, then each brand's incident
        rows = [row for row in rows if not _learn_only(report.states[pending[row][0]], moment)]
        if not rows:
            continue
        adjusted = _adjusted(decision.pvalue[rows])
        attention = _adjusted(decision.attention_pvalue[rows])
        for row, pvalue, p_attention in zip(rows, adjusted.tolist(), attention.tolist(), strict=True):
            brand = pending[row][0]
            state = report.states[brand]
            evidence = strength(pvalue)
            state.incident, transitions = advance(
                state.incident,
                brand=brand,
                bucket=moment,
                pvalue=pvalue,
                onset=state.onsets.is_onset(evidence),
                observed=float(decision.observed[row]),
                expected=float(decision.expected[row]),
                window_minutes=int(decision.window_minutes[row]),
                limited_history=bool(decision.limited_history[row]),
                p_open=_p_open(configs[row], moment),
                baseline_days=columns.negative.age[row] / BUCKETS_PER_DAY,
                calm=decision.calm_at(row),
                recent=(float(decision.recent_observed[row]), float(decision.recent_expected[row])),
            )
            restart = any(t.kind == "resolve" for t in transitions)
            transitions = _attention(
                brand, state, transitions, decision, row, moment, p_attention, configs[row], columns
            )
            report.transitions.extend(transitions)
            if restart:  # Page's procedure: the next episode starts from 0
                _restart_cusums(state.detector, columns, decision, row, block_end[brand], minimums, sustained)
    for state in report.states.values():
        if state.judge_from and state.last_bucket and state.last_bucket >= state.judge_from:
            state.judge_from = None  # rebuilt: judged as usual from now on
    return report


def _adjusted(pvalues: NDArray[np.float64]) -> NDArray[np.float64]:
    """The false discovery rate across the brands judged on one bucket."""
    return benjamini_hochberg(pvalues) if len(pvalues) > 1 else pvalues


def _attention(
    brand: str,
    state: BrandState,
    transitions: list[Transition],
    decision: Decision,
    row: int,
    moment: datetime,
    pvalue: float,
    config: DetectionSettings,
    columns: BrandScan,
) -> list[Transition]:
    """The brand's attention notice after this bucket, and the crisis ``transitions`` with its own: it opens
    only while no crisis is open, and a crisis opening ends it (the crisis says it began as attention)."""
    onset = state.attention_onsets.is_onset(strength(pvalue))
    opened = next((t for t in transitions if t.kind == "open"), None)
    if opened is not None and state.attention is not None and state.incident is not None:
        crisis = replace(state.incident, attention_from=state.attention.opened_at)
        ended = replace(state.attention, resolved_at=moment, became=crisis.id)
        state.incident, state.attention = crisis, None
        return [Transition("resolve", ended, moment)] + [
            replace(t, incident=crisis) if t is opened else t for t in transitions
        ]
    if state.incident is not None:
        return transitions
    state.attention, more = advance(
        state.attention,
        brand=brand,
        bucket=moment,
        pvalue=pvalue,
        onset=onset,
        observed=float(decision.attention_observed[row]),
        expected=float(decision.attention_expected[row]),
        window_minutes=int(decision.attention_minutes[row]),
        limited_history=bool(decision.limited_history[row]),
        p_open=_p_open(config, moment) / ATTENTION_FACTOR,
        baseline_days=columns.total.age[row] / BUCKETS_PER_DAY,
        calm=decision.attention_calm_at(row),
        recent=(float(decision.attention_recent_observed[row]), float(decision.attention_recent_expected[row])),
        kind="attention",
    )
    return transitions + more


def _lookback(state: BrandState, until: datetime) -> datetime:
    """Where a brand's first cycle starts learning: its backfilled history, else ``FIRST_LOOKBACK``."""
    if state.history_from is None:
        return until - FIRST_LOOKBACK
    return max(min(state.history_from, until - FIRST_LOOKBACK), until - MAX_HISTORY)


def with_history(state: BrandState | None, history_from: datetime, now: datetime) -> BrandState:
    """The state a brand needs once a backfill has stored its history from ``history_from``: it learns from
    there, and judges only buckets it would judge anyway (a backfilled week is history, not news: judging it
    would alert about last week). A brand the detector already follows is relearned the same way; its open
    incident is kept."""
    fresh = rebuilt_state(state.incident if state else None, now)
    fresh.history_from = history_from
    if state is not None and state.last_bucket is None:
        fresh.judge_from = state.judge_from or fresh.judge_from
    return fresh


def _learn_only(state: BrandState, moment: datetime) -> bool:
    return state.judge_from is not None and moment < state.judge_from


def _restart_cusums(
    detector: BrandDetector,
    columns: BrandScan,
    decision: Decision,
    row: int,
    end: int,
    minimums: list[int],
    sustained: list[bool],
) -> None:
    """Restarts the brand's CUSUMs after ``row``. In a catch-up cycle its later buckets (up to ``end``) were
    already scanned: their CUSUMs are replayed from 0 and their decisions made again, before the FDR of their
    buckets is computed; the detector keeps the state after its last bucket."""
    for scan, series in (
        (columns.negative, detector.negative),
        (columns.authors, detector.authors),
        (columns.total, detector.total),
    ):
        series.cusum, series.run_observed, series.run_expected, series.run_buckets = scan.restart_after(row, end)
    if row + 1 < end:
        again = decide(columns.rows(row + 1, end), minimums[row + 1 : end], sustained=sustained[row + 1 : end])
        for name in (f.name for f in fields(Decision)):
            getattr(decision, name)[row + 1 : end] = getattr(again, name)


def _p_open(config: DetectionSettings, moment: datetime) -> float:
    threshold = SENSITIVITY[config.sensitivity]
    return threshold / PLANNED_FACTOR if config.planned_at(moment) else threshold


def _moments(start: datetime, until: datetime) -> list[datetime]:
    count = max(0, int((until - start).total_seconds()) // BUCKET_SECONDS)
    return [start + timedelta(seconds=BUCKET_SECONDS * i) for i in range(count)]


def _by_moment(pending: Sequence[tuple[str, datetime]]) -> list[tuple[datetime, list[int]]]:
    """The rows of each bucket time, in time order: all brands judged on the same bucket together."""
    groups: dict[datetime, list[int]] = {}
    for row, (_, moment) in enumerate(pending):
        groups.setdefault(moment, []).append(row)
    return sorted(groups.items())
