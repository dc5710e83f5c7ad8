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

import math
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
        return min(PHI_MAX, max(PHI_MIN, self.phi_raw))

    def expected(self, slot: int) -> float:
        """mu for the next bucket of ``slot`` (0 before anything was seen)."""
        n = self.counts[slot]
        return (n * self.means[slot] + SHRINK * self.level) / (n + SHRINK) if self.observed else 0.0

    def learn(self, slot: int, value: float, mu: float) -> None:
        """Updates the state with the bucket's value (winsorised) after it was scored against ``mu``."""
        if value < 0 or math.isnan(value):
            raise ValueError(f"counts must be non-negative numbers, got {value!r}")
        if self.observed:
            cap = mu + WINSOR_SD * math.sqrt(mu + self.phi * mu * mu) + 1.0
            value = min(value, cap)
            if mu > 0.5:  # the moment is too noisy for near-empty buckets
                moment = min(10.0, max(-1.0, ((value - mu) ** 2 - mu) / (mu * mu)))
                self.phi_seen += 1
                self.phi_raw += max(1.0 / (self.phi_seen + 10), 1 / 2000) * (moment - self.phi_raw)
        n = self.counts[slot]
        rate = max(1.0 / (n + 1), ALPHA_SLOT)
        self.means[slot] += rate * (value - self.means[slot]) if n else value - self.means[slot]
        self.counts[slot] = n + 1
        level_rate = max(1.0 / (self.observed + 1), ALPHA_LEVEL)
        self.level += level_rate * (value - self.level)
        self.observed += 1
