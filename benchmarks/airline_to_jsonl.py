"""The airline tweets as replay files: one JSON Lines file per airline, in the public mention format.

    python -m benchmarks.airline_to_jsonl --output out/airline

Honours the coverage described in ../shared/data/airline/README.md: before 2015-02-17 08:00 PST every airline
has only a trickle of tweets (American until 2015-02-22 11:58 PST), so those hours are missing data, not calm,
and are left out (``--keep-sparse`` keeps them). The crowd's sentiment label is kept as ``sentiment`` so the
replay judges the detector, not the scorer (``--no-labels`` leaves scoring to the pipeline).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.airline_backtest import COVERAGE_START, DEFAULT_START, HANDLES
from benchmarks.common import airline_tweets


def brand_slug(airline: str) -> str:
    """The brand name of an airline: its handle (the file's "Delta" rows are tweets to @JetBlue)."""
    return HANDLES[airline].lstrip("@").lower()


def convert(output: Path, *, keep_sparse: bool = False, labels: bool = True) -> dict[str, int]:
    """Writes ``<brand>.jsonl`` per airline into ``output``; returns lines written per brand."""
    per_airline: dict[str, list[tuple[datetime, dict[str, object]]]] = defaultdict(list)
    for row in airline_tweets():
        created = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
        if not keep_sparse and created < COVERAGE_START.get(row["airline"], DEFAULT_START):
            continue
        mention: dict[str, object] = {
            "id": row["tweet_id"],
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "text": row["text"],
            "author": row["name"],
            "source": "twitter",
            "reposts": int(row["retweet_count"] or 0),
            "url": f"https://twitter.com/{row['name']}/status/{row['tweet_id']}",
        }
        if labels:
            mention["sentiment"] = row["airline_sentiment"]
        per_airline[row["airline"]].append((created, mention))
    output.mkdir(parents=True, exist_ok=True)
    written = {}
    for airline, rows in sorted(per_airline.items()):
        rows.sort(key=lambda pair: (pair[0], str(pair[1]["id"])))
        path = output / f"{brand_slug(airline)}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for _, mention in rows:
                handle.write(json.dumps(mention, ensure_ascii=False) + "\n")
        written[brand_slug(airline)] = len(rows)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="out/airline")
    parser.add_argument("--keep-sparse", action="store_true", help="keep the trickle before full coverage")
    parser.add_argument("--no-labels", action="store_true", help="leave sentiment to the pipeline's scorer")
    args = parser.parse_args()
    for brand, lines in convert(Path(args.output), keep_sparse=args.keep_sparse, labels=not args.no_labels).items():
        print(f"{Path(args.output) / (brand + '.jsonl')}: {lines} mentions")


if __name__ == "__main__":
    main()
