"""Helpers shared by the benchmark scripts: where ../shared is, and the airline tweets."""

from __future__ import annotations

import csv
import os
from pathlib import Path

SHARED = Path(os.environ.get("GROUNDSWELL_SHARED", Path(__file__).resolve().parents[2] / "shared"))
AIRLINE_TWEETS = SHARED / "data" / "airline" / "airline_tweets.csv"


def airline_tweets() -> list[dict[str, str]]:
    """The labelled airline tweets, deduplicated on tweet id (the file repeats 155 ids)."""
    if not AIRLINE_TWEETS.exists():
        raise SystemExit(f"airline data not found at {AIRLINE_TWEETS} (set GROUNDSWELL_SHARED)")
    seen: set[str] = set()
    rows = []
    with AIRLINE_TWEETS.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["tweet_id"] not in seen:
                seen.add(row["tweet_id"])
                rows.append(row)
    return rows
