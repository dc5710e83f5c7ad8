"""A brand's three signals, combined into one decision per bucket.

- **negative count**: is the number of negative mentions swelling? (:mod:`evidence`, several windows)
- **distinct negative authors**: is it a crowd? One angry customer posting 20 times raises the count, not the
  authors; both must be significant (an intersection-union test: the larger p-value of the two).
- **negative share**: did the share of negative mentions jump without a volume change? A binomial upper tail
  of the windowed negatives given the windowed total and the baseline share, with the sample size deflated
  by a design effect (intra-bucket correlation ``SHARE_ICC``) for the clustering of opinions.

p = max(min(2 min(p_count, p_share), 1), p_authors): a swell or a shift, carried by a crowd.

Apart from those, **attention**: is the volume of all mentions far beyond normal (the same seasonal NB evidence
on the total, windows only, each window counting only when it is ``ATTENTION_RATIO`` times its expectation and
``ATTENTION_EXCESS`` mentions above it)? A brand's own post gone wrong draws mockery before (or instead of)
complaints; this is the evidence of a non-paging notice (``incidents``, kind ``attention``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from groundswell.domain.detection.detector import Detector, Scan
from groundswell.domain.detection.evidence import WINDOWS, binomial_upper_tail, combine, cusum_pvalue, swell_tail
from groundswell.domain.detection.incidents import CALM_SPANS, CURRENT_MINUTES

SHARE_WINDOWS = (3, 4, 5)  # indices into WINDOWS: 60, 120, 240 minutes
RATIO_WINDOW = WINDOWS.index(CURRENT_MINUTES // 5)  # the last two hours: an open incident's current numbers
CALM_WINDOWS = tuple(WINDOWS.index(minutes // 5) for _, minutes, _ in CALM_SPANS)  # each calm span's window ...
CALM_TESTS = tuple(min(i, WINDOWS.index(12)) + 1 for i in CALM_WINDOWS)  # ... and its tests: windows up to 1 h
SHARE_ICC = 0.02
SHARE_MIN_TOTAL = 20
MIN_NEGATIVE = 3  # a window with fewer negative mentions is no evidence (the minimum volume)
EARLY = 36  # buckets (3 hours) before a new brand's evidence counts at all ...
EARLY_PENALTY = 1e3  # ... and until it has a day of history, its p-values are multiplied by this
ATTENTION_RATIO = 3.0  # attention: a window of all mentions at least this many times its expectation ...
ATTENTION_EXCESS = 25.0  # ... and at least this many mentions above it ("far beyond normal", not a few posts)


@dataclass
class BrandScan:
    """The three series of many buckets as columns: one brand's history, or one cycle's buckets of all brands."""

    negative: Scan
    authors: Scan
    total: Scan

    @classmethod
    def joined(cls, parts: Sequence[BrandScan]) -> BrandScan:
        return cls(
            Scan.joined([p.negative for p in parts]),
            Scan.joined([p.authors for p in parts]),
            Scan.joined([p.total for p in parts]),
        )

    def rows(self, start: int, end: int) -> BrandScan:
        return BrandScan(self.negative.rows(start, end), self.authors.rows(start, end), self.total.rows(start, end))

    def __len__(self) -> int:
        return len(self.negative)


@dataclass
class BrandDetector:
    negative: Detector = field(default_factory=Detector)
    authors: Detector = field(default_factory=Detector)
    total: Detector = field(default_factory=Detector)

    def scan(
        self, moments: Sequence[datetime], totals: Sequence[float], negatives: Sequence[float], authors: Sequence[float]
    ) -> BrandScan:
        """The three series' windowed sums (:meth:`Detector.scan`), as columns; refuses a bucket with more
        negatives than mentions or more negative authors than negatives."""
        for moment, total, negative, author in zip(moments, totals, negatives, authors, strict=True):
            if negative > total or author > negative:
                raise ValueError(
                    f"inconsistent bucket at {moment}: total {total}, negative {negative}, authors {author}"
                )
        return BrandScan(
            self.negative.scan(moments, negatives),
            self.authors.scan(moments, authors),
            self.total.scan(moments, totals),
        )


@dataclass
class Decision:
    pvalue: NDArray[np.float64]
    p_count: NDArray[np.float64]
    p_share: NDArray[np.float64]
    p_authors: NDArray[np.float64]
    window_minutes: NDArray[np.int64]  # the count test's window (for the CUSUM: its run)
    observed: NDArray[np.float64]  # negatives in that window
    expected: NDArray[np.float64]
    limited_history: NDArray[np.bool_]  # less than a day of history: stricter, and said so in the incident
    calm: NDArray[np.float64]  # per row and calm span: the count evidence of its windows, observed, expected
    recent_observed: NDArray[np.float64]  # negatives in the last two hours, and their expectation: an open
    recent_expected: NDArray[np.float64]  # incident's current numbers
    # attention (all mentions): the same per row, for the non-paging notice
    attention_pvalue: NDArray[np.float64]
    attention_minutes: NDArray[np.int64]
    attention_observed: NDArray[np.float64]
    attention_expected: NDArray[np.float64]
    attention_calm: NDArray[np.float64]
    attention_recent_observed: NDArray[np.float64]
    attention_recent_expected: NDArray[np.float64]

    def calm_at(self, row: int) -> list[tuple[float, float, float]]:
        """``advance``'s ``calm`` for this row."""
        return [(float(p), float(o), float(e)) for p, o, e in self.calm[row]]

    def attention_calm_at(self, row: int) -> list[tuple[float, float, float]]:
        return [(float(p), float(o), float(e)) for p, o, e in self.attention_calm[row]]


def _matrix(flat: list[float]) -> NDArray[np.float64]:
    return np.array(flat, dtype=float).reshape(-1, len(WINDOWS))


Floats = NDArray[np.float64]


def calm_evidence(count_tails: Floats, observed: Floats, expected: Floats) -> Floats:
    """Rows x ``CALM_SPANS`` x (p, observed, expected): is each span calm now? Its p-value uses its windows up
    to an hour alone (the CUSUM lingers after a swell); observed and expected are the span's window."""
    out = np.empty((len(observed), len(CALM_SPANS), 3))
    for span, (window, tests) in enumerate(zip(CALM_WINDOWS, CALM_TESTS, strict=True)):
        out[:, span, 0] = combine(count_tails[:, :tests])[0]
        out[:, span, 1], out[:, span, 2] = observed[:, window], expected[:, window]
    return out


def fired_numbers(
    which: NDArray[np.int64],
    observed: Floats,
    expected: Floats,
    run_observed: Floats,
    run_expected: Floats,
    run_buckets: NDArray[np.int64],
) -> tuple[Floats, Floats, NDArray[np.int64]]:
    """Observed, expected and minutes of the test that gave each row's p-value (``which``: a window's index,
    or ``len(WINDOWS)`` for the CUSUM). The CUSUM reports its run (the buckets since it last was 0, Page's
    estimate of when the shift began); a run longer than the longest window reports that window instead when
    its ratio is higher: the last 4 hours of a long run describe how far above normal it is now (a 16-hour run
    at 2.3x whose last 4 hours are at 3.2x is reported, and graded, at 3.2x)."""
    rows = np.arange(len(which))
    window = np.minimum(which, len(WINDOWS) - 1)
    fired_observed, fired_expected = observed[rows, window], expected[rows, window]
    minutes = np.asarray(WINDOWS)[window] * 5
    for row in np.flatnonzero(which == len(WINDOWS)).tolist():
        run_ratio = run_observed[row] / max(run_expected[row], 1.0)
        if run_buckets[row] <= WINDOWS[-1] or run_ratio >= observed[row, -1] / max(expected[row, -1], 1.0):
            fired_observed[row], fired_expected[row] = run_observed[row], run_expected[row]
            minutes[row] = run_buckets[row] * 5
    return fired_observed, fired_expected, minutes.astype(np.int64)


def decide(
    columns: BrandScan,
    min_negative: Sequence[int] | None = None,
    *,
    authors_known: bool = True,
    sustained: Sequence[bool] | None = None,
    attention: bool = True,
) -> Decision:
    """Vectorised over buckets (of one brand) or brands (of one cycle); ``min_negative`` per row (default
    ``MIN_NEGATIVE``): windows with fewer negative mentions are no evidence. Without ``authors_known`` (a
    count series with no author column) the crowd test is left out. Rows where ``sustained`` is False (during
    a planned event) leave out the sustained-shift test (the CUSUMs): a campaign's slow rise is expected.
    Without ``attention`` (a caller that reports no attention notices) that evidence is not computed (p = 1)."""
    negative, authors, totals, rows = columns.negative, columns.authors, columns.total, len(columns)
    warm = (np.array(negative.age) >= EARLY)[:, None]
    neg_obs, neg_exp = _matrix(negative.observed), _matrix(negative.expected)
    floor = np.full(rows, MIN_NEGATIVE) if min_negative is None else np.asarray(min_negative)
    quiet = (neg_obs < floor[:, None]) | ~warm
    no_cusum = quiet[:, -1] if sustained is None else quiet[:, -1] | ~np.asarray(sustained, dtype=bool)
    count_tails = np.where(quiet, 1.0, swell_tail(neg_obs, neg_exp, _matrix(negative.phi)))
    count_cusum = np.where(no_cusum, 1.0, cusum_pvalue(np.array(negative.cusum)))
    p_count, which = combine(np.column_stack([count_tails, count_cusum]))
    observed, expected, window_minutes = fired_numbers(
        which,
        neg_obs,
        neg_exp,
        np.array(negative.run_observed, dtype=float),
        np.array(negative.run_expected, dtype=float),
        np.array(negative.run_buckets, dtype=np.int64),
    )

    author_tails = swell_tail(_matrix(authors.observed), _matrix(authors.expected), _matrix(authors.phi))
    author_cusum = np.where(no_cusum, 1.0, cusum_pvalue(np.array(authors.cusum)))
    p_authors, _ = combine(np.column_stack([np.where(quiet, 1.0, author_tails), author_cusum]))
    if not authors_known:
        p_authors = np.zeros(rows)

    tot_obs, tot_exp = _matrix(totals.observed), _matrix(totals.expected)
    cols = list(SHARE_WINDOWS)
    share = np.clip(neg_exp[:, cols] / np.maximum(tot_exp[:, cols], 1e-9), 1e-3, 0.999)
    deflate = 1 + (tot_obs[:, cols] - 1).clip(min=0) * SHARE_ICC
    n_eff, k_eff = np.floor(tot_obs[:, cols] / deflate), np.floor(neg_obs[:, cols] / deflate)
    share_tails = binomial_upper_tail(k_eff, n_eff, share)
    share_tails = np.where(quiet[:, cols] | (tot_obs[:, cols] < SHARE_MIN_TOTAL), 1.0, share_tails)
    p_share, _ = combine(share_tails)

    either = np.minimum(1.0, 2 * np.minimum(p_count, p_share))
    limited = ~np.array(negative.warm, dtype=bool)
    pvalue = np.where(
        limited, np.minimum(1.0, np.maximum(either, p_authors) * EARLY_PENALTY), np.maximum(either, p_authors)
    )
    noticed = (
        attention_evidence(tot_obs, tot_exp, _matrix(totals.phi), warm, limited)
        if attention
        else (
            np.ones(rows),
            np.zeros(rows, dtype=np.int64),
            np.zeros(rows),
            np.zeros(rows),
            np.ones((rows, len(CALM_SPANS), 3)),
            np.zeros(rows),
            np.zeros(rows),
        )
    )
    return Decision(
        pvalue,
        p_count,
        p_share,
        p_authors,
        window_minutes,
        observed,
        expected,
        limited,
        calm_evidence(count_tails, neg_obs, neg_exp),
        neg_obs[:, RATIO_WINDOW],
        neg_exp[:, RATIO_WINDOW],
        *noticed,
    )


def attention_evidence(
    observed: Floats, expected: Floats, phi: Floats, warm: NDArray[np.bool_], limited: NDArray[np.bool_]
) -> tuple[Floats, NDArray[np.int64], Floats, Floats, Floats, Floats, Floats]:
    """The attention signal over all mentions: p-value (windows only: a sustained doubling of volume is not
    "far beyond normal"; stricter while history is limited, as the crisis evidence), the firing window's
    minutes, observed and expected, its calm evidence and the last two hours' observed and expected."""
    tails = np.where(warm, swell_tail(observed, expected, phi), 1.0)
    far = (observed >= ATTENTION_RATIO * np.maximum(expected, 1.0)) & (observed - expected >= ATTENTION_EXCESS)
    pvalue, which = combine(np.where(far, tails, 1.0))
    pvalue = np.where(limited, np.minimum(1.0, pvalue * EARLY_PENALTY), pvalue)
    rows = np.arange(len(which))
    return (
        pvalue,
        (np.asarray(WINDOWS)[which] * 5).astype(np.int64),
        observed[rows, which],
        expected[rows, which],
        calm_evidence(tails, observed, expected),
        observed[:, RATIO_WINDOW],
        expected[:, RATIO_WINDOW],
    )
