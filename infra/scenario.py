"""Generated mentions for the demo and the benchmarks: seasonal chatter, a crisis, a one-person flood.

All text is produced here from the project's own templates (no third-party posts are bundled).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

NEGATIVE = [
    "{brand} cancelled my flight again and I've been on hold for {n} hours",
    "Still waiting for my refund from {brand}. {n} weeks now. Nobody answers",
    "{brand} lost my bag and the app keeps crashing when I file the claim",
    "Why is nobody at {brand} answering the phone? {n} hours in the queue",
    "Terrible service from {brand} today, gate agents had no information at all",
    "{brand} delayed us {n} hours and then charged a fee to rebook. Unacceptable",
    "Worst experience with {brand} ever. Stranded at the airport with no updates",
]
CRISIS = [  # what the swell is about: a booking-system outage
    "{brand} app is down and I can't check in, outage at the airport too. Ridiculous",
    "Stuck at the gate, {brand} says their booking system outage grounded everything",
    "{brand} system outage again? Hundreds stranded, no information for {n} hours",
    "The {brand} outage means no boarding passes, terrible communication",
]
NEUTRAL = [
    "Flying {brand} to Denver tomorrow, any tips for the lounge?",
    "Does {brand} allow pets in the cabin on short flights?",
    "{brand} announced a new route to Lisbon starting in May",
    "Checking in with {brand} for the {n} am flight",
    "Reading the {brand} quarterly update this morning",
]
POSITIVE = [
    "Thank you {brand} for the smooth flight and the friendly crew!",
    "Great job {brand}, landed {n} minutes early",
    "Love the new seats on {brand}, very comfortable",
    "{brand} support sorted my booking in minutes, impressed",
]


@dataclass(frozen=True)
class BrandScenario:
    name: str
    label: str
    per_bucket: float  # mean mentions per 5 minutes at the daily peak
    negative_share: float = 0.25
    crisis_start_hour: float | None = None
    crisis_hours: float = 6.0
    crisis_multiplier: float = 6.0
    crisis_ramp: float = 0.25  # share of the crisis spent building up to its full rate
    flood_hour: float | None = None  # one author posts ~15 complaints in this hour


DEMO_BRANDS = (
    BrandScenario("acme-air", "Acme Air", per_bucket=6.0, crisis_start_hour=38, crisis_hours=8, crisis_ramp=0.5),
    BrandScenario("brightbank", "BrightBank", per_bucket=1.5, negative_share=0.2, flood_hour=33),
    BrandScenario("nimbus-phone", "Nimbus Phone", per_bucket=3.0, negative_share=0.3),
)


def diurnal(hour: float) -> float:
    """Relative activity by hour of day: quiet at night, busiest late afternoon (0.15 .. 1.0)."""
    return 0.15 + 0.85 * (0.5 - 0.5 * math.cos(2 * math.pi * ((hour - 4) % 24) / 24))


def generate(scenario: BrandScenario, start: datetime, hours: int, seed: int = 7) -> list[dict[str, object]]:
    """Mentions in the public replay format, in time order."""
    rng = random.Random(f"{seed}:{scenario.name}")
    out: list[dict[str, object]] = []
    authors = [f"user{i:04d}" for i in range(2000)]
    for step in range(hours * 12):
        bucket = start + timedelta(minutes=5 * step)
        hour = step / 12
        rate = scenario.per_bucket * diurnal(bucket.hour + bucket.minute / 60)
        negative_share = scenario.negative_share
        if scenario.crisis_start_hour is not None and 0 <= hour - scenario.crisis_start_hour < scenario.crisis_hours:
            into = (hour - scenario.crisis_start_hour) / scenario.crisis_hours
            ramp = min(1.0, into / scenario.crisis_ramp) * (1.0 if into < 0.7 else (1 - into) / 0.3)
            rate *= 1 + (scenario.crisis_multiplier - 1) * ramp
            negative_share = negative_share + (0.85 - negative_share) * ramp
        in_crisis = negative_share > scenario.negative_share
        for _ in range(_poisson(rng, rate)):
            out.append(_mention(rng, scenario, bucket, rng.choice(authors), negative_share, in_crisis))
        if scenario.flood_hour is not None and scenario.flood_hour <= hour < scenario.flood_hour + 1:
            for _ in range(rng.choice((1, 1, 2))):
                out.append(_mention(rng, scenario, bucket, "angry_customer_42", 1.0))
    out.sort(key=lambda m: str(m["created_at"]))
    return out


def _mention(
    rng: random.Random, s: BrandScenario, bucket: datetime, author: str, negative_share: float, in_crisis: bool = False
) -> dict[str, object]:
    roll = rng.random()
    pool = NEGATIVE if roll < negative_share else POSITIVE if roll > 1 - 0.25 * (1 - negative_share) else NEUTRAL
    if pool is NEGATIVE and in_crisis and rng.random() < 0.6:
        pool = CRISIS
    created = bucket + timedelta(seconds=rng.randrange(300))
    ident = f"{s.name}-{created:%Y%m%d%H%M%S}-{rng.randrange(10**9):09d}"
    return {
        "id": ident,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "text": rng.choice(pool).format(brand=s.label, n=rng.randint(2, 9)),
        "author": author,
        "url": f"https://social.example/{author}/{ident}",
        "likes": rng.randrange(40),
        "reposts": rng.randrange(8),
        "replies": rng.randrange(5),
        "source": "replay",
    }


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def write_jsonl(records: list[dict[str, object]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def demo_start() -> datetime:
    return datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
