"""Incidents: one per episode, opened on an onset of strong evidence, resolved after a sustained calm.

``advance`` is a pure function of the previous incident (or none) and this bucket's decision; it returns the
new incident (or none) and the transitions to publish: ``open``, ``escalate`` (severity rose), ``update`` (a new
peak), ``resolve``. The id (``<brand>:<opening bucket>``) is stable, for dedupe downstream.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

SENSITIVITY = {"fewer": 1e-8, "balanced": 1e-6, "more": 1e-4}  # p-value that opens an incident
P_OPEN = SENSITIVITY["balanced"]
P_CALM = 0.05
CALM_RATIO = 1.3  # ... and the last two hours at most 30% above expected: a sustained 2x day is not calm
CALM_BUCKETS = 12  # an hour of calm resolves an incident
CURRENT_MINUTES = 120  # an open incident's current numbers, and the span calm is judged over: the last two hours
ONSET_MEMORY = 288  # a new incident needs evidence above the previous 24 hours'
EVIDENCE_SCALE = 12.0
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

    def evidence_span(self) -> tuple[datetime, datetime]:
        """The time its drivers are computed from: the firing window at opening, then the whole episode so far
        (from that window's start, at the latest, to the end of the peak bucket): more mentions, steadier terms.
        At most ``DRIVERS_SPAN`` (a sustained shift's window is its whole run)."""
        end = self.peak_at + timedelta(minutes=5)
        start = self.opened_at + timedelta(minutes=5) - timedelta(minutes=self.window_minutes)
        return max(start, end - DRIVERS_SPAN), end


@dataclass(frozen=True)
class Transition:
    kind: str  # open | escalate | update | resolve
    incident: Incident


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
    recent_pvalue: float | None = None,
    recent: tuple[float, float] | None = None,
) -> tuple[Incident | None, list[Transition]]:
    """The incident after this bucket, and what changed. ``recent_pvalue``: the evidence of the last hour
    alone, which decides calm (default: ``pvalue``); accumulated evidence (the CUSUM) lingers after a swell.
    ``recent``: observed and expected in the last ``CURRENT_MINUTES``: calm also needs their ratio back near 1,
    and they are the open incident's current numbers (default: this bucket's firing window's)."""
    now_observed, now_expected = (observed, expected) if recent is None else recent
    if incident is None:
        if onset and pvalue <= p_open:
            opened = Incident(
                id=f"{brand}:{bucket:%Y%m%dT%H%M}",
                brand=brand,
                opened_at=bucket,
                severity=severity(observed, expected, pvalue),
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
            )
            return opened, [Transition("open", opened)]
        return None, []
    quiet = (pvalue if recent_pvalue is None else recent_pvalue) > P_CALM
    near_normal = recent is None or now_observed / max(now_expected, 1.0) <= CALM_RATIO
    calm = incident.calm_buckets + 1 if quiet and near_normal else 0
    current = replace(incident, current_observed=now_observed, current_expected=now_expected, calm_buckets=calm)
    if calm >= CALM_BUCKETS:
        resolved = replace(current, resolved_at=bucket - timedelta(minutes=5 * (CALM_BUCKETS - 1)))
        return None, [Transition("resolve", resolved)]
    transitions: list[Transition] = []
    level = severity(observed, expected, pvalue)
    peak_ratio = incident.observed / max(incident.expected, 0.1)
    if observed / max(expected, 0.1) > peak_ratio and pvalue <= incident.pvalue:
        current = replace(
            current, observed=observed, expected=expected, peak_at=bucket, pvalue=pvalue, window_minutes=window_minutes
        )
        if level > incident.severity:
            current = replace(current, severity=level)
            transitions.append(Transition("escalate", current))
        elif observed / max(expected, 0.1) >= 1.5 * peak_ratio:
            transitions.append(Transition("update", current))
    return current, transitions
