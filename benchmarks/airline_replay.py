"""Every airline through ``groundswell replay`` (the whole pipeline on the embedded stack), scored against the
hand-labelled windows: what each replay raised, when, and how many messages it sent.

    python -m benchmarks.airline_replay [--output out/airline-replay] [--airlines usairways,southwestair]

Unlike benchmarks.airline_backtest (the detector cycle alone, in memory), this runs the real poller, detector
and notifier handlers on moto, so it takes minutes per airline.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.airline_backtest import WINDOWS_CSV
from benchmarks.airline_to_jsonl import HANDLES, brand_slug, convert
from infra.replay import run_replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="out/airline-replay")
    parser.add_argument("--airlines", help="comma-separated brand names (default: all six)")
    parser.add_argument("--sensitivity", choices=["fewer", "balanced", "more"], default="balanced")
    args = parser.parse_args()
    output = Path(args.output)
    files = convert(output / "input")
    named = [a.strip() for a in args.airlines.split(",")] if args.airlines else sorted(files)
    chosen = [brand_slug(a) if a in HANDLES else a.lower() for a in named]  # "US Airways" or "usairways"
    unknown = sorted(set(chosen) - set(files))
    if unknown:
        parser.exit(2, f"no airline {', '.join(unknown)} in the data: choose among {', '.join(sorted(files))}\n")
    with WINDOWS_CSV.open(newline="") as handle:
        windows = list(csv.DictReader(handle))
    lines = []
    for brand in chosen:
        began = time.perf_counter()
        result = output / f"{brand}.jsonl"
        run_replay(output / "input" / f"{brand}.jsonl", brand, result, sensitivity=args.sensitivity)
        rows = [json.loads(line) for line in result.read_text().splitlines()]
        incidents = [r for r in rows if r["type"] == "incident"]
        alerts = [r for r in rows if r["type"] == "alert"]
        lines.append(f"{brand} ({time.perf_counter() - began:.0f} s, {len(alerts)} alert messages)")
        matched: set[str] = set()
        for window in (w for w in windows if brand_slug(w["airline_in_data"]) == brand):
            start = datetime.fromisoformat(window["start_utc"]).replace(tzinfo=UTC)
            end = datetime.fromisoformat(window["end_utc"]).replace(tzinfo=UTC)
            hits = [i for i in incidents if start - timedelta(hours=1) <= _time(i["opened_at"]) <= end]
            matched.update(i["incident_id"] for i in hits)
            verb = "noticed" if hits and hits[0].get("kind") == "attention" else "alerted"  # attention: no page
            when = f"{verb} {(_time(hits[0]['opened_at']) - start).total_seconds() / 60:+.0f} min" if hits else "quiet"
            lines.append(f"  {window['kind']:<12}{start:%m-%d %H:%M}-{end:%H:%M} UTC  {when:<22}{window['label'][:50]}")
        for incident in incidents:
            if incident["incident_id"] not in matched:
                what = "attention notice" if incident.get("kind") == "attention" else f"severity {incident['severity']}"
                lines.append(f"  outside every window: {incident['opened_at']} {what}")
    print("\n".join(lines))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


if __name__ == "__main__":
    main()
