"""A streaming seasonal baseline for counts per 5-minute bucket, with negative-binomial overdispersion.

For each bucket t the model gives an expected count mu_t before seeing x_t, then learns from x_t:

- seasonality: one mean per (hour of day, weekday/weekend) slot, an exponentially weighted moving average
  with weight max(1/n_slot, ALPHA_SLOT) (a running mean at first, then about 60 observations of memory),
  shrunk towards the series' overall level while the slot has few observations;
- robustness to incidents: the value learned from is winsorised at mu_t + 3 sd_t (Huber-style), so a crisis
  moves the baseline only a little and a long one is still seen as one;
- overdispersion: Var(x) = mu + phi mu^2 (negative binomial, size 1/phi). E[((x - mu)^2 - mu) / mu^2] = phi,
  so phi is the running mean of that moment over all buckets with mu > 0.5 (clipped per bucket to [-1, 10];
  a method-of-moments estimator, Anscombe 1950), about 2,000 buckets (a week) of memory.

The state is a few hundred floats: it is stored per brand and updated each interval, never recomputed from
history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SLOTS = 48
ALPHA_SLOT = 1 / 60
ALPHA_LEVEL = 1 / 288
SHRINK = 6.0  # a slot with n observations is weighted n / (n + SHRINK) against the overall level
PHI_START, PHI_MIN, PHI_MAX = 0.3, 0.005, 3.0
WINSOR_SD = 3.0


def slot_of(moment: datetime) -> int:
    """Hour of day (0-23), plus 24 on Saturdays and Sundays."""
    return moment.hour + (24 if moment.weekday() >= 5 else 0)


@dataclass
class Baseline:
    """Streaming state for one series (one brand's negative counts, say)."""

    means: list[float] = field(default_factory=lambda: [0.0] * SLOTS)
    counts: list[int] = field(default_factory=lambda: [0] * SLOTS)
    level: float = 0.0
    observed: int = 0
    phi_raw: float = PHI_START
    phi_seen: int = 0

    @property
    def phi(self) -> float:
        phi = self.phi_raw
        return PHI_MIN if phi < PHI_MIN else PHI_MAX if phi > PHI_MAX else phi

    def expected(self, slot: int) -> float:
        """mu for the next bucket of ``slot`` (0 before anything was seen)."""
        n = self.counts[slot]
        return (n * self.means[slot] + SHRINK * self.level) / (n + SHRINK) if self.observed else 0.0

    def learn(self, slot: int, value: float, mu: float, capped: float) -> None:
        """Updates the state with the bucket's value after it was scored against ``mu``; from the second
        bucket on it learns from ``capped``, the value winsorised at mu + WINSOR_SD sd + 1 (the caller's, which
        needs it too)."""
        if not value >= 0:  # also catches NaN
            raise ValueError(f"counts must be non-negative numbers, got {value!r}")
        observed = self.observed
        if observed:
            value = capped
            if mu > 0.5:  # the moment is too noisy for near-empty buckets
                moment = ((value - mu) ** 2 - mu) / (mu * mu)
                moment = -1.0 if moment < -1.0 else 10.0 if moment > 10.0 else moment
                self.phi_seen += 1
                rate = 1.0 / (self.phi_seen + 10)
                self.phi_raw += (rate if rate > 1 / 2000 else 1 / 2000) * (moment - self.phi_raw)
        n = self.counts[slot]
        if n:
            rate = 1.0 / (n + 1)
            self.means[slot] += (rate if rate > ALPHA_SLOT else ALPHA_SLOT) * (value - self.means[slot])
        else:
            self.means[slot] = value
        self.counts[slot] = n + 1
        level_rate = 1.0 / (observed + 1)
        self.level += (level_rate if level_rate > ALPHA_LEVEL else ALPHA_LEVEL) * (value - self.level)
        self.observed = observed + 1
