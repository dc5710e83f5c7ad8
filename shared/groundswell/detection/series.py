"""Scoring a whole series, as the ``detect`` command and the backtests do; each row uses only rows before it."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from groundswell.detection.detector import Detector
from groundswell.detection.evidence import WINDOWS, anomaly_score, combine, cusum_pvalue, upper_tail

DEFAULT_ALERT_P = 1e-6  # "balanced": see docs/detector.md
ONSET_MEMORY = 288  # buckets: a score counts only when it beats the evidence of the previous 24 hours


@dataclass
class SeriesScores:
    expected: NDArray[np.float64]
    pvalue: NDArray[np.float64]  # Bonferroni-corrected, smallest over the windows
    window: NDArray[np.int64]  # which window gave it
    evidence: NDArray[np.float64]  # -log10 p scaled to [0, 1]
    score: NDArray[np.float64]  # the evidence where it is a new high over ONSET_MEMORY, else 0

    def alerts(self, alert_p: float = DEFAULT_ALERT_P) -> NDArray[np.int64]:
        """1 where the product would alert: strong evidence that is new (an onset or an escalation)."""
        return ((self.pvalue <= alert_p) & (self.score > 0)).astype(np.int64)


def onsets(evidence: NDArray[np.float64], memory: int = ONSET_MEMORY) -> NDArray[np.float64]:
    """``evidence[i]`` where it exceeds every value of the previous ``memory`` rows, else 0 (sliding max).

    A swell is announced when it starts and when it grows, not on every bucket it lasts.
    """
    out = np.zeros_like(evidence)
    window: deque[int] = deque()  # indices of a decreasing run of evidence values
    for i, value in enumerate(evidence):
        while window and window[0] < i - memory:
            window.popleft()
        if not window or value > evidence[window[0]]:
            out[i] = value
        while window and evidence[window[-1]] <= value:
            window.pop()
        window.append(i)
    return out


def score_series(times: Sequence[datetime], values: Sequence[float]) -> SeriesScores:
    """Expected counts and swell evidence per row (an empty window is no evidence)."""
    if len(times) != len(values):
        raise ValueError("times and values must have the same length")
    detector = Detector()
    # flat lists, reshaped once at the end: numpy converts a flat list of floats far faster than nested lists
    observed_rows: list[float] = []
    expected_rows: list[float] = []
    phi_rows: list[float] = []
    mu_rows, warm_rows, cusum_rows = [], [], []
    for moment, value in zip(times, values, strict=True):
        sums = detector.step(moment, float(value))
        observed_rows.extend(sums.observed)
        expected_rows.extend(sums.expected)
        phi_rows.extend(sums.phi)
        mu_rows.append(sums.mu)
        warm_rows.append(sums.warm)
        cusum_rows.append(sums.cusum)
    observed = np.array(observed_rows, dtype=float).reshape(-1, len(WINDOWS))
    expected = np.array(expected_rows, dtype=float).reshape(-1, len(WINDOWS))
    mu = np.array(mu_rows, dtype=float)
    tails = upper_tail(observed, expected, np.array(phi_rows, dtype=float).reshape(-1, len(WINDOWS)))
    quiet = (observed < 1) | ~np.array(warm_rows, dtype=bool)[:, None]
    tails = np.where(quiet, 1.0, tails)
    tails = np.column_stack([tails, cusum_pvalue(np.array(cusum_rows))])  # the last column: sustained shifts
    pvalue, window = combine(tails)
    evidence = anomaly_score(pvalue)
    return SeriesScores(mu, pvalue, window, evidence, onsets(evidence))


def score_brand_series(times: Sequence[datetime], negative: Sequence[float], total: Sequence[float],
                       authors: Sequence[float] | None = None) -> SeriesScores:  # fmt: skip
    """Like :func:`score_series`, with the brand's decision: negative count or negative share, carried by a
    crowd of distinct authors when ``authors`` is given (without it, every mention counts as its own author)."""
    from groundswell.detection.brand import BrandDetector, decide

    if len({len(times), len(negative), len(total), len(times if authors is None else authors)}) > 1:
        raise ValueError("times, negative, total and authors must have the same length")
    detector = BrandDetector()
    signals = [
        detector.step(moment, float(all_), float(neg), float(neg if authors is None else authors[row]))
        for row, (moment, neg, all_) in enumerate(zip(times, negative, total, strict=True))
    ]
    decision = decide(signals, authors_known=authors is not None)
    evidence = anomaly_score(decision.pvalue)
    return SeriesScores(np.array([s.negative.mu for s in signals]), decision.pvalue, decision.window, evidence,
                        onsets(evidence))  # fmt: skip
