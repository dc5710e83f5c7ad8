"""Incidents: one per episode, opened on an onset of strong evidence, resolved after a sustained calm.

``advance`` is a pure function of the previous incident (or none) and this bucket's decision; it returns the
new incident (or none) and the transitions to publish: ``open``, ``escalate`` (severity rose), ``update`` (a new
peak), ``resolve``. The id (``<brand>:<opening bucket>``) is stable, for dedupe downstream.

An incident's ``kind`` is ``crisis`` (negative evidence: it pages) or ``attention`` (all mentions far beyond
normal while the negative evidence is quiet: a notice by email and chat, severity 1, id ``<brand>:<bucket>:
attention``). An attention notice open when a crisis opens ends there (``became``): the crisis carries on from it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

SENSITIVITY = {"fewer": 1e-8, "balanced": 1e-6, "more": 1e-4}  # p-value that opens an incident
P_OPEN = SENSITIVITY["balanced"]
P_CALM = 0.05  # calm: no evidence in the span judged (its windows up to an hour) ...
CALM_RATIO = 1.3  # ... and that span at most 30% above expected: a sustained 2x day is not calm
# Calm is scaled to the episode (its start to its last bucket that was not calm): (the episode lasted at most
# this many minutes, the span judged in minutes, the buckets of calm that resolve it). A 20-minute burst is
# over once 30 minutes look normal for half an hour; a day-long swell needs two normal hours for an hour.
CALM_SPANS = ((30, 30, 6), (60, 60, 6), (None, 120, 12))
CALM_BUCKETS = CALM_SPANS[-1][2]  # the longest calm an incident needs
CURRENT_MINUTES = 120  # an open incident's current numbers: the last two hours
ONSET_MEMORY = 288  # a new incident needs evidence above the previous 24 hours'
EVIDENCE_SCALE = 12.0
ATTENTION_FACTOR = 100.0  # an attention notice needs evidence this much stronger than a crisis (the preset's p)
DRIVERS_SPAN = timedelta(days=1)  # the longest span of mentions an incident's drivers are read from


# Severity from how far above usual *and* how many posts above usual: (level, at least this ratio, at least this
# many negative posts above the expected ones in the window). Only severity 4 goes through quiet hours, so it
# needs a swell no handful of posts makes (docs/alerts.md, "Severity", has the table with examples).
SEVERITY_LEVELS = ((4, 10.0, 100.0), (3, 5.0, 40.0), (2, 2.5, 0.0))


def severity(observed: float, expected: float, pvalue: float) -> int:
    """1-4: the highest level whose ratio and excess both hold; at least 2 when p <= 1e-12. A dozen posts
    against 0.15 expected (80x, 12 above) is a 2, not a 4."""
    ratio = observed / max(expected, 0.1)
    excess = observed - expected
    level = next((lv for lv, at_least, above in SEVERITY_LEVELS if ratio >= at_least and excess >= above), 1)
    return max(level, 2) if pvalue <= 1e-12 else level


def strength(pvalue: float) -> float:
    """The onset rule's evidence: -log10 p / ``EVIDENCE_SCALE``, not capped. Capped at 1 (p = 1e-12), a short
    burst's evidence equalled any later crisis's, and the crisis opened nothing for 24 hours."""
    return -math.log10(max(pvalue, 1e-300)) / EVIDENCE_SCALE


@dataclass
class OnsetTracker:
    """Is this evidence a new high over the last ``memory`` buckets? A monotonic deque: small state. A swell
    is announced when it starts and when it grows, not on every bucket it lasts."""

    index: int = 0
    peaks: deque[tuple[int, float]] = field(default_factory=deque)

    def is_onset(self, evidence: float, memory: int = ONSET_MEMORY) -> bool:
        while self.peaks and self.peaks[0][0] < self.index - memory:
            self.peaks.popleft()
        onset = not self.peaks or evidence > self.peaks[0][1]
        while self.peaks and self.peaks[-1][1] <= evidence:
            self.peaks.pop()
        self.peaks.append((self.index, evidence))
        self.index += 1
        return onset and evidence > 0


@dataclass(frozen=True)
class Incident:
    id: str
    brand: str
    opened_at: datetime
    severity: int
    pvalue: float
    window_minutes: int
    observed: float  # negatives in the firing window, at the peak
    expected: float
    peak_at: datetime
    current_observed: float  # negatives in the last CURRENT_MINUTES, and their expectation
    current_expected: float
    calm_buckets: int = 0
    resolved_at: datetime | None = None
    limited_history: bool = False
    baseline_days: float = 0.0  # days of history the expected level was learned from, at opening
    drivers: tuple[str, ...] = ()  # terms over-represented in the spike's negative mentions
    sources: tuple[tuple[str, float, float], ...] = ()  # (source, share in the spike, share in the baseline)
    started_at: datetime | None = None  # when the swell began: the start of the window that fired at opening
    busy_until: datetime | None = None  # the last bucket its shortest calm span was not calm (see ``calm_span``)
    kind: str = "crisis"  # or "attention": observed and expected then count all mentions, not negatives
    attention_from: datetime | None = None  # a crisis that began as an attention notice: when that opened
    became: str | None = None  # an attention notice ended by a crisis: the crisis's id
    authors: int | None = None  # an attention notice: distinct authors of the posts its drivers were read from

    def evidence_span(self) -> tuple[datetime, datetime]:
        """The time its drivers are computed from: the firing window at opening, then the whole episode so far
        (from that window's start, at the latest, to the end of the peak bucket): more mentions, steadier terms.
        At most ``DRIVERS_SPAN`` (a sustained shift's window is its whole run)."""
        end = self.peak_at + timedelta(minutes=5)
        start = self.opened_at + timedelta(minutes=5) - timedelta(minutes=self.window_minutes)
        return max(start, end - DRIVERS_SPAN), end


def calm_span(incident: Incident) -> int:
    """Which of ``CALM_SPANS`` judges the incident's calm: by how long its episode lasted, from its start to the
    last bucket its shortest span was busy, less that span's own lag (a 30-minute window stays busy for 25
    minutes after a swell's last bucket)."""
    shortest = CALM_SPANS[0][1]
    busy_until = incident.busy_until or incident.opened_at
    lasted = (busy_until - (incident.started_at or incident.opened_at)).total_seconds() / 60 + 5 - (shortest - 5)
    return next(i for i, (longest, _, _) in enumerate(CALM_SPANS) if longest is None or lasted <= longest)


@dataclass(frozen=True)
class Transition:
    kind: str  # open | escalate | update | resolve
    incident: Incident
    at: datetime | None = None  # the bucket whose judgement made it (a resolve is dated back to the calm's start)


def advance(
    incident: Incident | None,
    *,
    brand: str,
    bucket: datetime,
    pvalue: float,
    onset: bool,
    observed: float,
    expected: float,
    window_minutes: int,
    limited_history: bool = False,
    baseline_days: float = 0.0,
    p_open: float = P_OPEN,
    calm: Sequence[tuple[float, float, float]] | None = None,
    recent: tuple[float, float] | None = None,
    kind: str = "crisis",
) -> tuple[Incident | None, list[Transition]]:
    """The incident after this bucket, and what changed. ``calm``: for each of ``CALM_SPANS``, the evidence of
    its windows alone (accumulated evidence, the CUSUM, lingers after a swell), and its observed and expected
    counts (default: ``pvalue`` and ``recent`` for each). ``recent``: observed and expected in the last
    ``CURRENT_MINUTES``, the open incident's current numbers (default: this bucket's firing window's).
    ``kind`` ``attention``: the numbers count all mentions; severity stays 1 (nothing to escalate)."""
    now_observed, now_expected = (observed, expected) if recent is None else recent
    if incident is None:
        if onset and pvalue <= p_open:
            opened = Incident(
                id=f"{brand}:{bucket:%Y%m%dT%H%M}" + (":attention" if kind == "attention" else ""),
                brand=brand,
                opened_at=bucket,
                severity=severity(observed, expected, pvalue) if kind == "crisis" else 1,
                pvalue=pvalue,
                window_minutes=window_minutes,
                observed=observed,
                expected=expected,
                peak_at=bucket,
                current_observed=now_observed,
                current_expected=now_expected,
                limited_history=limited_history,
                baseline_days=round(baseline_days, 1),
                started_at=bucket + timedelta(minutes=5) - timedelta(minutes=window_minutes),
                kind=kind,
            )
            return opened, [Transition("open", opened, bucket)]
        return None, []
    spans = [(pvalue, now_observed, now_expected)] * len(CALM_SPANS) if calm is None else calm
    calm_now = [p > P_CALM and observed / max(expected, 1.0) <= CALM_RATIO for p, observed, expected in spans]
    busy_until = incident.busy_until if calm_now[0] else bucket
    span = calm_span(replace(incident, busy_until=busy_until))
    calm_buckets = incident.calm_buckets + 1 if calm_now[span] else 0
    current = replace(
        incident,
        current_observed=now_observed,
        current_expected=now_expected,
        calm_buckets=calm_buckets,
        busy_until=busy_until,
    )
    needed = CALM_SPANS[span][2]
    if calm_buckets >= needed:
        resolved = replace(current, resolved_at=bucket - timedelta(minutes=5 * (needed - 1)))
        return None, [Transition("resolve", resolved, bucket)]
    transitions: list[Transition] = []
    level = severity(observed, expected, pvalue) if incident.kind == "crisis" else 1
    peak_ratio = incident.observed / max(incident.expected, 0.1)
    if observed / max(expected, 0.1) > peak_ratio and pvalue <= incident.pvalue:
        current = replace(
            current, observed=observed, expected=expected, peak_at=bucket, pvalue=pvalue, window_minutes=window_minutes
        )
        if level > incident.severity:
            current = replace(current, severity=level)
            transitions.append(Transition("escalate", current, bucket))
        elif observed / max(expected, 0.1) >= 1.5 * peak_ratio:
            transitions.append(Transition("update", current, bucket))
    return current, transitions
