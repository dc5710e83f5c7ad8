"""Drivers on the airline windows, against what the people who labelled them wrote.

    python -m benchmarks.drivers_benchmark [--baseline-days 1] [--hours 3]

For each crisis window (not the artifact and not_crisis ones), the drivers of its first ``--hours`` of
negative tweets (the crowd's labels) against the ``--baseline-days`` before it, as the detector function
computes them; a driver agrees when the window's label or evidence (what the labellers wrote) contains it, not
the crowd's reason categories, which name "Flight" and "Customer Service" in nearly every window. Prints each
window's drivers and, in total, how many drivers agree and how many windows have at least one that does.
A rough check on a small labelled sample (11 windows), not a fitted score.
"""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime, timedelta

from benchmarks.airline_backtest import HANDLES, WINDOWS_CSV, negatives_between, series
from groundswell.domain.detection.drivers import find_drivers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-days", type=float, default=1.0)
    parser.add_argument("--hours", type=float, default=3.0)
    args = parser.parse_args()
    data = series("human")
    with WINDOWS_CSV.open(newline="") as handle:
        windows = [w for w in csv.DictReader(handle) if w["kind"] not in ("artifact", "not_crisis")]
    found = agreeing = covered = 0
    for window in windows:
        name = window["airline_in_data"]
        start = datetime.fromisoformat(window["start_utc"]).replace(tzinfo=UTC)
        spike = negatives_between(data[name], start, start + timedelta(hours=args.hours))
        baseline = negatives_between(data[name], start - timedelta(days=args.baseline_days), start)
        terms = [d.term for d in find_drivers(spike, baseline, brand_terms=[name, HANDLES.get(name, "")])]
        written = " ".join((window["label"], window["evidence"])).lower()
        agree = [t for t in terms if t.strip("#@'") in written]
        found, agreeing, covered = found + len(terms), agreeing + len(agree), covered + bool(agree)
        print(f"{name:<15}{start:%m-%d %H:%M}  {window['label'][:48]:<50}{', '.join(terms) or '(none)'}")
    print(
        f"{found} drivers in {len(windows)} windows; {agreeing} ({agreeing / max(found, 1):.0%}) named in the "
        f"labellers' notes; {covered} windows with at least one such driver"
    )


if __name__ == "__main__":
    main()
