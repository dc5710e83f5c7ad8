"""Evidence of a swell at several time scales: negative-binomial upper tails of windowed sums.

For each bucket t and window length w (5 minutes to 4 hours) the observed sum O = x_{t-w+1} + ... + x_t is
compared with its expectation E = mu_{t-w+1} + ... + mu_t. The sum is modelled as negative binomial with mean
E and Var = E + phi_w E^2, where phi_w is the overdispersion *of w-bucket sums*, estimated separately for each
w (see :class:`groundswell.domain.detection.detector.Detector`): real mention series are autocorrelated, so the
variance of a sum is far above w independent buckets'. The evidence is the upper tail P(X >= O). A one-bucket
spike shows in the short windows, a swell building over hours in the long ones; the smallest tail is
Bonferroni-corrected for the number of windows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import betainc  # scipy.special, not scipy.stats: half the import time (cold starts)

WINDOWS = (1, 3, 6, 12, 24, 48)
MU_FLOOR = 0.02  # expected count per bucket never below this (a brand with no history yet)


def upper_tail(
    observed: NDArray[np.float64], mean: NDArray[np.float64], phi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """P(X >= observed) for X negative binomial with this mean and Var = mean + phi mean^2.

    With size n = 1/phi and p = n / (n + mean), P(X >= k) = I_{1-p}(k, n) for k >= 1 (the regularised
    incomplete beta function; Abramowitz & Stegun 26.5.26), and 1 for k <= 0.
    """
    return _nb_tail(observed, mean, phi, only_above=False)


def swell_tail(
    observed: NDArray[np.float64], mean: NDArray[np.float64], phi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """:func:`upper_tail` where the observed sum is above its expectation, 1 elsewhere: a sum at or below it is
    no evidence of a swell (its tail is at least 0.28 for phi <= 3, checked against ``scipy.stats.nbinom``, so
    it cannot survive :func:`combine`'s correction over 4 or more tests), and
    the incomplete beta function is computed for those cells only (the detect command's speed)."""
    return _nb_tail(observed, mean, phi, only_above=True)


def _nb_tail(
    observed: NDArray[np.float64], mean: NDArray[np.float64], phi: NDArray[np.float64], *, only_above: bool
) -> NDArray[np.float64]:
    size = 1.0 / np.maximum(phi, 1e-6)
    mean = np.maximum(mean, MU_FLOOR)
    k = np.ceil(np.asarray(observed, dtype=float))
    k, size, mean = np.broadcast_arrays(k, size, mean)
    wanted = (k > mean) if only_above else (k > 0)
    tail = np.ones(k.shape)
    tail[wanted] = betainc(k[wanted], size[wanted], mean[wanted] / (size[wanted] + mean[wanted]))
    return tail


def binomial_upper_tail(
    successes: NDArray[np.float64], trials: NDArray[np.float64], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    """P(X >= k) for X binomial(n, p): I_p(k, n - k + 1) for 1 <= k <= n (A&S 26.5.24); 1 for k <= 0."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    safe_k = np.clip(k, 1.0, np.maximum(n, 1.0))
    tail = betainc(safe_k, np.maximum(n - safe_k + 1, 1e-9), p)
    return np.where(k <= 0, 1.0, np.where(k > n, 0.0, tail))


def benjamini_hochberg(pvalues: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (as ``scipy.stats.false_discovery_control(p, method="bh")``)."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(ranked, 1.0)
    return adjusted


def combine(tails: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Rows x windows of tails -> the Bonferroni-corrected smallest per row, and its window index."""
    which = np.argmin(tails, axis=1)
    return np.minimum(1.0, tails[np.arange(len(tails)), which] * tails.shape[1]), which


# Wald's bound P(S >= h) <= e^-h holds for one start; the CUSUM is the maximum over all starts, so the bound is
# multiplied by the number of starts that matter. A day of starts (288) was the first choice; those starts are
# so dependent that the union is very loose. 50 raised no false alert in 32 clean synthetic brand-weeks (as 288
# and 20 did) and, on the airline data, opened the US Airways meltdown 70 minutes earlier and United's Monday
# inside its window instead of after it (docs/detector.md, "Tried").
CUSUM_STARTS = 50


def cusum_pvalue(statistic: NDArray[np.float64]) -> NDArray[np.float64]:
    """A p-value for a CUSUM statistic: min(1, CUSUM_STARTS * e^-S) (Page 1954; Wald's inequality)."""
    return np.minimum(1.0, CUSUM_STARTS * np.exp(-np.asarray(statistic, dtype=float)))


def anomaly_score(pvalues: NDArray[np.float64], scale: float = 12.0) -> NDArray[np.float64]:
    """A score in [0, 1] from p-values: -log10(p) / scale, capped at 1 (p = 1e-6 scores 0.5)."""
    return np.clip(-np.log10(np.maximum(pvalues, 1e-300)) / scale, 0.0, 1.0) + 0.0  # + 0.0: no -0.0
