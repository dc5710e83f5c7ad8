"""Scoring a whole series, as the ``detect`` command and the backtests do; each row uses only rows before it.

The evidence of every row is computed at once (vectorised), then incidents are followed row by row as the
detector function follows them. Where an incident resolves, the function restarts the CUSUM (Page's restart);
here the CUSUM's path is then replayed from that row until it would have reached 0 anyway, and those rows'
evidence and onsets are recomputed, so the ``alert`` column is the function's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from groundswell.domain.detection.brand import RATIO_WINDOW, BrandDetector, calm_evidence, decide, fired_numbers
from groundswell.domain.detection.detector import Detector, Scan
from groundswell.domain.detection.evidence import WINDOWS, anomaly_score, combine, cusum_pvalue, swell_tail
from groundswell.domain.detection.incidents import EVIDENCE_SCALE, ONSET_MEMORY, OnsetTracker, advance

DEFAULT_ALERT_P = 1e-6  # "balanced": see docs/detector.md


@dataclass
class SeriesScores:
    times: Sequence[datetime]
    expected: NDArray[np.float64]
    pvalue: NDArray[np.float64]  # Bonferroni-corrected, smallest over the windows
    window_minutes: NDArray[np.int64]  # the test that gave it: a window, or the CUSUM's run
    evidence: NDArray[np.float64]  # -log10 p scaled to [0, 1]
    score: NDArray[np.float64]  # the evidence where it is an onset (a new high over ONSET_MEMORY), else 0
    observed_sum: NDArray[np.float64]  # observed and expected counts in that window
    expected_sum: NDArray[np.float64]
    calm: NDArray[np.float64]  # per row and calm span: its evidence, observed and expected (is it calm now?)
    recent_observed: NDArray[np.float64]  # observed and expected in the last two hours (current numbers)
    recent_expected: NDArray[np.float64]
    alert: NDArray[np.int64]  # 1 where an incident opens at the preset's p-value (the detector function's decision)


def onset_scores(pvalue: NDArray[np.float64], evidence: NDArray[np.float64]) -> NDArray[np.float64]:
    """``evidence`` where the row is an onset by the function's rule (its uncapped :func:`strength` a new high),
    else 0."""
    strengths = -np.log10(np.maximum(pvalue, 1e-300)) / EVIDENCE_SCALE
    return np.where(onsets(strengths) > 0, evidence, 0.0)


def onsets(evidence: NDArray[np.float64], memory: int = ONSET_MEMORY) -> NDArray[np.float64]:
    """``evidence[i]`` where it exceeds every value of the previous ``memory`` rows, else 0: the detector
    function's own onset rule (:class:`~groundswell.domain.detection.incidents.OnsetTracker`) over a whole series."""
    tracker = OnsetTracker()
    return np.array([value if tracker.is_onset(value, memory) else 0.0 for value in evidence.tolist()], dtype=float)


def _follow_incidents(
    scores: SeriesScores, cusums: Sequence[Scan], rescore: Callable[[int, int], None], alert_p: float
) -> None:
    """Fills ``scores.alert``: follows incidents row by row with the detector function's ``advance``, and after
    each resolve restarts the CUSUMs (``cusums``: the scans whose CUSUMs the decision reads) as the function
    does, re-scoring the rows this changes (``rescore(a, b)`` recomputes rows a..b-1's evidence from the
    scans; their onsets are recomputed here)."""
    rows = len(scores.pvalue)
    incident, row = None, 0
    while row < rows:
        if incident is None:  # nothing happens until the next row that could open one
            could_open = np.flatnonzero((scores.score[row:] > 0) & (scores.pvalue[row:] <= alert_p))
            if not len(could_open):
                break
            row += int(could_open[0])
        incident, transitions = advance(
            incident,
            brand="series",
            bucket=scores.times[row],
            pvalue=float(scores.pvalue[row]),
            onset=bool(scores.score[row] > 0),
            observed=float(scores.observed_sum[row]),
            expected=float(scores.expected_sum[row]),
            window_minutes=int(scores.window_minutes[row]),
            p_open=alert_p,
            calm=[(float(p), float(o), float(e)) for p, o, e in scores.calm[row]],
            recent=(float(scores.recent_observed[row]), float(scores.recent_expected[row])),
        )
        if transitions and transitions[0].kind == "open":
            scores.alert[row] = 1
        resolved = bool(transitions) and transitions[0].kind == "resolve"
        if resolved and any(scan.cusum[row] > 0 for scan in cusums):  # as the function does: Page's restart
            until = max(scan.first_calm_after(row) for scan in cusums)  # from there on nothing changes
            for scan in cusums:
                scan.restart_after(row, until)
            rescore(row + 1, until)
            start, end = max(0, row + 1 - ONSET_MEMORY), min(rows, until + ONSET_MEMORY)
            span = slice(start, end)
            scores.score[row + 1 : end] = onset_scores(scores.pvalue[span], scores.evidence[span])[row + 1 - start :]
        row += 1


def score_series(times: Sequence[datetime], values: Sequence[float], alert_p: float = DEFAULT_ALERT_P) -> SeriesScores:
    """Expected counts and swell evidence per row (an empty window is no evidence), and where incidents open at
    ``alert_p``."""
    if len(times) != len(values):
        raise ValueError("times and values must have the same length")
    scan = Detector().scan(times, values)  # flat lists: numpy converts them far faster than nested ones
    observed = np.array(scan.observed, dtype=float).reshape(-1, len(WINDOWS))
    expected = np.array(scan.expected, dtype=float).reshape(-1, len(WINDOWS))
    tails = swell_tail(observed, expected, np.array(scan.phi, dtype=float).reshape(-1, len(WINDOWS)))
    tails = np.where((observed < 1) | ~np.array(scan.warm, dtype=bool)[:, None], 1.0, tails)
    rows = len(values)
    empty = np.zeros(rows)
    scores = SeriesScores(
        times,
        np.array(scan.mu, dtype=float),
        np.ones(rows),
        np.zeros(rows, dtype=np.int64),
        empty.copy(),
        empty.copy(),
        empty.copy(),
        empty.copy(),
        calm_evidence(tails, observed, expected),
        observed[:, RATIO_WINDOW],
        expected[:, RATIO_WINDOW],
        np.zeros(rows, dtype=np.int64),
    )

    def rescore(first: int, end: int) -> None:
        part = slice(first, end)
        sustained = cusum_pvalue(np.array(scan.cusum[part]))  # the last column: sustained shifts
        scores.pvalue[part], which = combine(np.column_stack([tails[part], sustained]))
        scores.observed_sum[part], scores.expected_sum[part], scores.window_minutes[part] = fired_numbers(
            which,
            observed[part],
            expected[part],
            np.array(scan.run_observed[part]),
            np.array(scan.run_expected[part]),
            np.array(scan.run_buckets[part], dtype=np.int64),
        )
        scores.evidence[part] = anomaly_score(scores.pvalue[part])

    rescore(0, rows)
    scores.score[:] = onset_scores(scores.pvalue, scores.evidence)
    _follow_incidents(scores, [scan], rescore, alert_p)
    return scores


def score_brand_series(
    times: Sequence[datetime],
    negative: Sequence[float],
    total: Sequence[float],
    authors: Sequence[float] | None = None,
    alert_p: float = DEFAULT_ALERT_P,
) -> SeriesScores:
    """Like :func:`score_series`, with the brand's decision: negative count or negative share, carried by a
    crowd of distinct authors when ``authors`` is given (without it, every mention counts as its own author)."""
    if len({len(times), len(negative), len(total), len(times if authors is None else authors)}) > 1:
        raise ValueError("times, negative, total and authors must have the same length")
    columns = BrandDetector().scan(times, total, negative, negative if authors is None else authors)
    rows = len(columns)
    first = decide(columns, authors_known=authors is not None, attention=False)
    scores = SeriesScores(
        times,
        np.array(columns.negative.mu),
        first.pvalue,
        first.window_minutes,
        anomaly_score(first.pvalue),
        np.zeros(rows),
        first.observed,
        first.expected,
        first.calm,
        first.recent_observed,
        first.recent_expected,
        np.zeros(rows, dtype=np.int64),
    )

    def rescore(start: int, end: int) -> None:
        decision = decide(columns.rows(start, end), authors_known=authors is not None, attention=False)
        part = slice(start, end)
        scores.pvalue[part], scores.window_minutes[part] = decision.pvalue, decision.window_minutes
        scores.observed_sum[part], scores.expected_sum[part] = decision.observed, decision.expected
        scores.evidence[part] = anomaly_score(decision.pvalue)

    scores.score[:] = onset_scores(scores.pvalue, scores.evidence)
    _follow_incidents(scores, [columns.negative, columns.authors], rescore, alert_p)  # (the total's is unused)
    return scores
