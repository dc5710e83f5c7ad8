"""What a backfill of history buys a brand added on a bad day: the airline data and the synthetic brands.

    python -m benchmarks.backfill_benchmark [--days 0 1 3 7]

**Airlines.** The tweets start at each airline's coverage start (02-17 16:00 UTC for most), so there is no real
history to backfill. A stand-in: each history day before the coverage start is one of the airline's own
ordinary days (a full day of coverage that touches no labelled window), at the same time of day, cycled. The
detector function's own cycle (hourly, as in ``benchmarks.airline_backtest``) then starts from that history as
it does after a backfill (``cycle.with_history``: learned, not judged) and runs over the real coverage. Reported
per labelled window: alerted or not, and how early, with 0 (no backfill: the brand starts at its coverage) to
7 days of backfill; and the incidents outside every window.

**Synthetic brands** (``benchmarks.synthetic_benchmark``'s seasonal brands, no swell): a brand added on day 14
of three clean weeks; false alerts in its first day and first three days, without history and with a 7-day
backfill.
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from benchmarks import synthetic_benchmark as synthetic
from benchmarks.airline_backtest import WINDOWS_CSV, coverage_start, series
from groundswell.domain.detection.cycle import BrandState, run_cycle, with_history
from groundswell.domain.models import Bucket
from infra.memory import MemoryBuckets

DAY = timedelta(days=1)


def labelled_windows() -> list[dict[str, str]]:
    with WINDOWS_CSV.open(newline="") as handle:
        return list(csv.DictReader(handle))


def window_span(w: dict[str, str]) -> tuple[datetime, datetime]:
    return (
        datetime.fromisoformat(w["start_utc"]).replace(tzinfo=UTC),
        datetime.fromisoformat(w["end_utc"]).replace(tzinfo=UTC),
    )


def standin_history(
    buckets: dict[datetime, list], start: datetime, days: int, windows: list[tuple[datetime, datetime]]
) -> dict[datetime, Bucket]:
    """``days`` of history before ``start`` made of the airline's ordinary days (see the module docstring)."""
    last = max(buckets)
    ordinary = [
        i
        for i in range(int((last - start) / DAY))
        if not any(a < start + (i + 1) * DAY and start + i * DAY < b for a, b in windows)
    ]
    history: dict[datetime, Bucket] = {}
    for k in range(1, days + 1 if ordinary else 1):  # an airline with no ordinary day gets no stand-in
        source = ordinary[(k - 1) % len(ordinary)]
        for step in range(288):
            moment = start + source * DAY + timedelta(minutes=5 * step)
            cell = buckets.get(moment)
            if cell:
                at = start - k * DAY + timedelta(minutes=5 * step)
                history[at] = Bucket(
                    brand="b", start=at, total=cell[0], negative=cell[1], negative_authors=len(cell[2])
                )
    return history


def openings(stored: dict[datetime, Bucket], start: datetime, end: datetime, history_days: int) -> list[datetime]:
    """Where the detector function opens incidents from ``start`` to ``end``, hourly cycles; with history (the
    buckets of ``stored`` before ``start``) as a backfill leaves it, or none (learning from ``start`` on)."""
    repository = MemoryBuckets(stored)
    if history_days:
        state = with_history(None, start - history_days * DAY, start + timedelta(minutes=5))
        state.judge_from = start
    else:
        state = BrandState(last_bucket=start - timedelta(minutes=5))
    found, now = [], start + timedelta(hours=1, minutes=5)
    while now <= end + timedelta(hours=1, minutes=5):
        report = run_cycle({"b": state}, now, repository)
        state = report.states["b"]
        found += [t.incident.opened_at for t in report.transitions if t.kind == "open"]
        now += timedelta(hours=1)
    return found


def airlines(days: list[int]) -> None:
    data, windows = series("human"), labelled_windows()
    print(f"airlines: labelled windows, alerted (delay) with {', '.join(str(d) for d in days)} days of backfill")
    print(f"{'airline':<16}{'window (UTC)':<24}{'kind':<13}" + "".join(f"{str(d) + ' d':>10}" for d in days))
    for name in sorted(data):
        buckets = data[name]
        start = coverage_start(name, buckets)
        mine = [w for w in windows if w["airline_in_data"] == name]
        spans = [window_span(w) for w in mine]
        live = {
            m: Bucket(brand="b", start=m, total=c[0], negative=c[1], negative_authors=len(c[2]))
            for m, c in buckets.items()
            if m >= start
        }
        runs = {
            d: openings({**standin_history(buckets, start, d, spans), **live}, start, max(buckets), d) for d in days
        }
        for w, (a, b) in zip(mine, spans, strict=True):
            cells = []
            for d in days:
                hits = [o for o in runs[d] if a - timedelta(hours=1) <= o <= b]
                cells.append(f"{(hits[0] - a).total_seconds() / 60:+.0f}m" if hits else "-")
            print(f"{name:<16}{a:%m-%d %H:%M}-{b:%H:%M}{'':<7}{w['kind']:<13}" + "".join(f"{c:>10}" for c in cells))
        outside = {d: [o for o in runs[d] if not any(a - timedelta(hours=1) <= o <= b for a, b in spans)] for d in days}
        print(f"{'':<16}{'incidents outside every window':<37}" + "".join(f"{len(outside[d]):>10}" for d in days))
        for d in days:
            if outside[d]:
                print(f"{'':<16}  with {d} d: opened {', '.join(f'{o:%m-%d %H:%M}' for o in outside[d])}")


def new_brands(seeds: int) -> None:
    added = synthetic.START + 14 * DAY
    first_day = {0: 0, 7: 0}
    first_three = {0: 0, 7: 0}
    runs = 0
    for rate in synthetic.RATES:
        for seed in range(seeds):
            runs += 1
            x = synthetic.draw(np.random.default_rng([int(rate * 10), seed, 31]), synthetic.baseline_means(rate))
            for days in (0, 7):
                begin = added - days * DAY
                stored = {
                    synthetic.START + timedelta(minutes=5 * i): Bucket(
                        brand="b",
                        start=synthetic.START + timedelta(minutes=5 * i),
                        total=int(4 * n),
                        negative=int(n),
                        negative_authors=int(n),
                    )
                    for i, n in enumerate(x)
                    if begin <= synthetic.START + timedelta(minutes=5 * i) < added + 3 * DAY
                }
                opened = openings_new(stored, added, days)
                first_day[days] += sum(1 for o in opened if o < added + DAY)
                first_three[days] += len(opened)
    print(
        f"synthetic brands added on a clean day ({runs} brands, rates {', '.join(map(str, synthetic.RATES))}/5 min): "
        f"false alerts in the first day {first_day[0]} without history, {first_day[7]} with a 7-day backfill; "
        f"in the first three days {first_three[0]} and {first_three[7]}"
    )


def openings_new(stored: dict[datetime, Bucket], added: datetime, history_days: int) -> list[datetime]:
    """A brand new to the detector (no state) added at ``added``: its first cycle 5 minutes later."""
    repository = MemoryBuckets(stored)
    state: BrandState | None = (
        with_history(None, added - history_days * DAY, added + timedelta(minutes=5)) if history_days else None
    )
    if state is not None:
        state.judge_from = added
    found, now = [], added + timedelta(minutes=10)
    while now <= added + 3 * DAY:
        report = run_cycle({"b": state}, now, repository)
        state = report.states["b"]
        found += [t.incident.opened_at for t in report.transitions if t.kind == "open"]
        now += timedelta(hours=1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, nargs="+", default=[0, 1, 3, 7])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    began = time.perf_counter()
    airlines(args.days)
    new_brands(args.seeds)
    print(f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
