"""Scoring a whole series, as the ``detect`` command and the backtests do; each row uses only rows before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from groundswell.detection.brand import RATIO_WINDOW, RECENT_WINDOWS, BrandDetector, decide, fired_numbers
from groundswell.detection.detector import Detector
from groundswell.detection.evidence import WINDOWS, anomaly_score, combine, cusum_pvalue, swell_tail
from groundswell.detection.incidents import ONSET_MEMORY, OnsetTracker, advance

DEFAULT_ALERT_P = 1e-6  # "balanced": see docs/detector.md


@dataclass
class SeriesScores:
    times: Sequence[datetime]
    expected: NDArray[np.float64]
    pvalue: NDArray[np.float64]  # Bonferroni-corrected, smallest over the windows
    window_minutes: NDArray[np.int64]  # the test that gave it: a window, or the CUSUM's run
    evidence: NDArray[np.float64]  # -log10 p scaled to [0, 1]
    score: NDArray[np.float64]  # the evidence where it is a new high over ONSET_MEMORY, else 0
    observed_sum: NDArray[np.float64]  # observed and expected counts in that window
    expected_sum: NDArray[np.float64]
    p_recent: NDArray[np.float64]  # the evidence of the last hour alone (is it calm now?)
    recent_observed: NDArray[np.float64]  # observed and expected in the last two hours (back to normal?)
    recent_expected: NDArray[np.float64]

    def alerts(self, alert_p: float = DEFAULT_ALERT_P) -> NDArray[np.int64]:
        """1 where the product would alert: where an incident opens (an onset with p <= ``alert_p``, no
        incident open yet), as the detector function decides; 0 while it lasts and until it resolves."""
        rows = len(self.pvalue)
        out = np.zeros(rows, dtype=np.int64)
        could_open = np.flatnonzero((self.score > 0) & (self.pvalue <= alert_p))
        incident, row = None, 0
        while row < rows:
            if incident is None:  # nothing happens until the next row that could open one
                following = int(np.searchsorted(could_open, row))
                if following == len(could_open):
                    break
                row = int(could_open[following])
            incident, transitions = advance(
                incident, brand="series", bucket=self.times[row], pvalue=float(self.pvalue[row]),
                onset=bool(self.score[row] > 0), observed=float(self.observed_sum[row]),
                expected=float(self.expected_sum[row]), window_minutes=int(self.window_minutes[row]),
                p_open=alert_p, recent_pvalue=float(self.p_recent[row]),
                recent=(float(self.recent_observed[row]), float(self.recent_expected[row])),
            )  # fmt: skip
            if transitions and transitions[0].kind == "open":
                out[row] = 1
            row += 1
        return out


def onsets(evidence: NDArray[np.float64], memory: int = ONSET_MEMORY) -> NDArray[np.float64]:
    """``evidence[i]`` where it exceeds every value of the previous ``memory`` rows, else 0: the detector
    function's own onset rule (:class:`~groundswell.detection.incidents.OnsetTracker`) over a whole series."""
    tracker = OnsetTracker()
    return np.array([value if tracker.is_onset(value, memory) else 0.0 for value in evidence.tolist()], dtype=float)


def score_series(times: Sequence[datetime], values: Sequence[float]) -> SeriesScores:
    """Expected counts and swell evidence per row (an empty window is no evidence)."""
    if len(times) != len(values):
        raise ValueError("times and values must have the same length")
    scan = Detector().scan(times, values)  # flat lists: numpy converts them far faster than nested ones
    observed = np.array(scan.observed, dtype=float).reshape(-1, len(WINDOWS))
    expected = np.array(scan.expected, dtype=float).reshape(-1, len(WINDOWS))
    mu = np.array(scan.mu, dtype=float)
    tails = swell_tail(observed, expected, np.array(scan.phi, dtype=float).reshape(-1, len(WINDOWS)))
    quiet = (observed < 1) | ~np.array(scan.warm, dtype=bool)[:, None]
    tails = np.where(quiet, 1.0, tails)
    p_recent, _ = combine(tails[:, :RECENT_WINDOWS])
    tails = np.column_stack([tails, cusum_pvalue(np.array(scan.cusum))])  # the last column: sustained shifts
    pvalue, which = combine(tails)
    fired_observed, fired_expected, window_minutes = fired_numbers(
        which, observed, expected, scan.run_observed, scan.run_expected, scan.run_buckets
    )
    evidence = anomaly_score(pvalue)
    return SeriesScores(times, mu, pvalue, window_minutes, evidence, onsets(evidence), fired_observed,
                        fired_expected, p_recent, observed[:, RATIO_WINDOW],
                        expected[:, RATIO_WINDOW])  # fmt: skip


def score_brand_series(times: Sequence[datetime], negative: Sequence[float], total: Sequence[float],
                       authors: Sequence[float] | None = None) -> SeriesScores:  # fmt: skip
    """Like :func:`score_series`, with the brand's decision: negative count or negative share, carried by a
    crowd of distinct authors when ``authors`` is given (without it, every mention counts as its own author)."""
    if len({len(times), len(negative), len(total), len(times if authors is None else authors)}) > 1:
        raise ValueError("times, negative, total and authors must have the same length")
    detector = BrandDetector()
    signals = [
        detector.step(moment, float(all_), float(neg), float(neg if authors is None else authors[row]))
        for row, (moment, neg, all_) in enumerate(zip(times, negative, total, strict=True))
    ]
    decision = decide(signals, authors_known=authors is not None)
    evidence = anomaly_score(decision.pvalue)
    return SeriesScores(times, np.array([s.negative.mu for s in signals]), decision.pvalue, decision.window_minutes,
                        evidence, onsets(evidence), decision.observed, decision.expected, decision.p_recent,
                        decision.recent_observed, decision.recent_expected)  # fmt: skip
