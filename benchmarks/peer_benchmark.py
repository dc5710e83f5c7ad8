"""Does a brand's share of its peers' negative mentions help detect its crises? Measured on the airline data.

    python -m benchmarks.peer_benchmark [--p 1e-6]

Each airline's peers are the five others (each counted from its own coverage start). Per 5-minute bucket and
window (1 and 2 hours), k = the airline's negatives, n = the negatives of the airline and its peers, and a
binomial upper tail (the sample deflated by the detector's design effect, ``SHARE_ICC``) against p0:

- **history**: the airline's share of the pool's negatives over the previous 7 days (at least 3 hours of
  them): no time-of-day seasonality to learn, so a few hours of history give a usable p0;
- **same hour**: the airline's share of the pool's *mentions* in the same window (no history at all: is it
  more negative than its peers right now?).

Reported per labelled window: the first bucket whose evidence passes ``--p`` (Bonferroni over the two windows)
and the smallest p-value in it; and outside the windows, how many episodes pass (a pass more than 2 hours after
the last one starts a new episode) per brand-day. The detector's own results on the same windows are in
``python -m benchmarks.airline_backtest``.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from benchmarks.airline_backtest import WINDOWS_CSV, coverage_start, series
from groundswell.domain.detection.brand import SHARE_ICC
from groundswell.domain.detection.evidence import binomial_upper_tail
from groundswell.domain.models import bucket_start

STEP = timedelta(minutes=5)
PEER_WINDOWS = (12, 24)  # buckets: 1 and 2 hours
HISTORY = 7 * 288
MIN_HISTORY = 36  # 3 hours of pooled history before the "history" p0 is used


def tail(k: np.ndarray, n: np.ndarray, p0: np.ndarray) -> np.ndarray:
    deflate = 1 + (n - 1).clip(min=0) * SHARE_ICC
    n_eff, k_eff = np.floor(n / deflate), np.floor(k / deflate)
    p0 = np.clip(p0, 1e-3, 0.999)
    return np.where((n >= 20) & (k >= 3), binomial_upper_tail(k_eff, n_eff, p0), 1.0)


def peer_evidence(
    mine: np.ndarray, pool: np.ndarray, mine_all: np.ndarray, pool_all: np.ndarray, covered_from: int
) -> dict[str, np.ndarray]:
    """Per bucket, the two variants' p-values (Bonferroni over ``PEER_WINDOWS``); the brand's history starts at
    row ``covered_from`` (before it, its zeros are missing data, not a share of 0)."""
    out = {}
    cum_mine, cum_pool = np.concatenate([[0], np.cumsum(mine)]), np.concatenate([[0], np.cumsum(pool)])
    cum_all, cum_pool_all = np.concatenate([[0], np.cumsum(mine_all)]), np.concatenate([[0], np.cumsum(pool_all)])
    rows = np.arange(len(mine))
    history, same_hour = [], []
    for w in PEER_WINDOWS:
        start = np.maximum(rows + 1 - w, 0)
        k, n = cum_mine[rows + 1] - cum_mine[start], cum_pool[rows + 1] - cum_pool[start]
        base_start = np.maximum(start - HISTORY, covered_from)
        base_k, base_n = cum_mine[start] - cum_mine[base_start], cum_pool[start] - cum_pool[base_start]
        enough = (start - base_start >= MIN_HISTORY) & (base_n >= 20)
        p_hist = np.where(enough, tail(k, n, base_k / np.maximum(base_n, 1)), 1.0)
        all_k, all_n = cum_all[rows + 1] - cum_all[start], cum_pool_all[rows + 1] - cum_pool_all[start]
        p_now = tail(k, n, all_k / np.maximum(all_n, 1))
        history.append(p_hist)
        same_hour.append(p_now)
    out["history"] = np.minimum(1.0, np.min(history, axis=0) * len(PEER_WINDOWS))
    out["same hour"] = np.minimum(1.0, np.min(same_hour, axis=0) * len(PEER_WINDOWS))
    return out


def episodes(times: Sequence[datetime], passed: np.ndarray) -> list[datetime]:
    starts: list[datetime] = []
    last: datetime | None = None
    for t, ok in zip(times, passed, strict=True):
        if ok:
            if last is None or t - last > timedelta(hours=2):
                starts.append(t)
            last = t
    return starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--p", type=float, default=1e-6, help="the p-value that counts as evidence (balanced)")
    args = parser.parse_args()
    data = series("human")
    starts = {name: coverage_start(name, buckets) for name, buckets in data.items()}
    first, last = min(starts.values()), max(max(b) for b in data.values())
    times = [first + STEP * i for i in range(int((last - first) / STEP) + 1)]
    index = {t: i for i, t in enumerate(times)}
    negative, total = {}, {}
    for name, buckets in data.items():
        neg, tot = np.zeros(len(times)), np.zeros(len(times))
        for moment, cell in buckets.items():
            if moment >= starts[name] and moment in index:
                neg[index[moment]], tot[index[moment]] = cell[1], cell[0]
        negative[name], total[name] = neg, tot
    with WINDOWS_CSV.open(newline="") as handle:
        windows = list(csv.DictReader(handle))
    print(f"peer evidence at p <= {args.p:g}; peers: the other five airlines, each from its coverage start")
    print(f"{'airline':<16}{'window (UTC)':<22}{'kind':<13}{'history':>22}{'same hour':>22}")
    evidence = {}
    for name in sorted(data):
        peers = [p for p in data if p != name]
        covered = np.array([t >= starts[name] for t in times])
        pool = negative[name] + sum(negative[p] for p in peers)
        pool_all = total[name] + sum(total[p] for p in peers)
        found = peer_evidence(negative[name], pool, total[name], pool_all, index[bucket_start(starts[name])])
        evidence[name] = {k: np.where(covered, v, 1.0) for k, v in found.items()}
    for w in windows:
        name = w["airline_in_data"]
        start = datetime.fromisoformat(w["start_utc"]).replace(tzinfo=UTC)
        end = datetime.fromisoformat(w["end_utc"]).replace(tzinfo=UTC)
        rows = [i for i, t in enumerate(times) if start - timedelta(hours=1) <= t <= end]
        cells = []
        for variant in ("history", "same hour"):
            p = evidence[name][variant][rows]
            hit = next((times[rows[i]] for i, v in enumerate(p) if v <= args.p), None)
            when = f"{(hit - start).total_seconds() / 60:+.0f}m" if hit else "no"
            cells.append(f"{when} (min {p.min():.0g})")
        print(f"{name:<16}{start:%m-%d %H:%M}-{end:%H:%M}{'':<5}{w['kind']:<13}{cells[0]:>22}{cells[1]:>22}")
    days = sum((last - starts[n]).total_seconds() / 86400 for n in data)
    for variant in ("history", "same hour"):
        outside = 0
        for name in data:
            own = [w for w in windows if w["airline_in_data"] == name]
            for moment in episodes(times, evidence[name][variant] <= args.p):
                inside = any(
                    datetime.fromisoformat(w["start_utc"]).replace(tzinfo=UTC) - timedelta(hours=1)
                    <= moment
                    <= datetime.fromisoformat(w["end_utc"]).replace(tzinfo=UTC)
                    for w in own
                )
                outside += not inside
        print(f"{variant}: {outside} episodes outside the labelled windows in {days:.1f} brand-days")


if __name__ == "__main__":
    main()
