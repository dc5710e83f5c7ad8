"""Drivers: what a spike is about, against what is normal for the brand."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from groundswell.domain.detection.drivers import find_drivers, source_shares
from groundswell.domain.models import Mention, Sentiment

T = datetime(2026, 11, 3, tzinfo=UTC)


def mention(i: int, text: str, author: str, source: str = "bluesky") -> Mention:
    return Mention(
        source=source, id=str(i), brand="acme-air", text=text, author=author, created_at=T, sentiment=Sentiment.NEGATIVE
    )


def test_the_spike_topic_leads_and_everyday_complaints_do_not() -> None:
    rng = random.Random(3)
    everyday = [
        "Acme Air lost my bag again",
        "Acme Air flight delayed, no updates",
        "rude gate agent at Acme Air",
        "Acme Air refund still missing",
        "seat broken on Acme Air",
    ]
    baseline = [mention(i, rng.choice(everyday), f"user{i}") for i in range(300)]
    spike = [
        mention(1000 + i, f"Acme Air computer outage at BWI, {rng.choice(everyday)}", f"crowd{i}", "mastodon")
        for i in range(40)
    ]
    spike += [mention(2000 + i, rng.choice(everyday), f"other{i}") for i in range(20)]
    drivers = find_drivers(spike, baseline, brand_terms=["Acme Air", "@acmeair"])
    assert {d.term for d in drivers[:3]} == {"computer", "outage", "bwi"}
    assert all(d.term not in ("acme", "air", "lost", "bag") for d in drivers)
    assert source_shares(spike, baseline)["mastodon"] == (0.667, 0.0)


def test_one_person_repeating_a_word_is_not_a_driver() -> None:
    baseline = [mention(i, "Acme Air delayed", f"user{i}") for i in range(100)]
    spike = [mention(100 + i, "Acme Air ruined my honeymoon", "angry_customer") for i in range(15)]
    assert find_drivers(spike, baseline) == []


def test_a_swell_of_the_usual_complaints_is_described_by_its_most_frequent_terms() -> None:
    """Nothing stands out against the baseline (the same complaints, more of them): the drivers are the spike's
    most frequent terms that are not under-represented, and never everyday words such as "today"."""
    rng = random.Random(5)
    usual = [
        "Acme Air cancelled my flight today",
        "on hold with Acme Air for an hour today",
        "Acme Air cancelled again, on hold forever",
        "Acme Air lost my bag",
    ]
    baseline = [mention(i, rng.choice(usual), f"user{i}") for i in range(200)]
    spike = [mention(1000 + i, rng.choice(usual), f"crowd{i}") for i in range(120)]
    drivers = find_drivers(spike, baseline, brand_terms=["Acme Air"])
    assert [d.term for d in drivers if d.z >= 2.5] == []
    assert {d.term for d in drivers} <= {"cancelled", "flight", "hold", "hour", "forever", "lost", "bag"}
    assert len(drivers) == 3  # "today" is in half the posts, but names no topic
    assert drivers[0].spike >= drivers[1].spike >= drivers[2].spike and all(d.z >= 0 for d in drivers)
