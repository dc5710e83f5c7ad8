"""One person, one set of preferences across the brands they are listed in, independent of brand order."""

from __future__ import annotations

import itertools
from datetime import time

from groundswell.domain.alerting.people import conflicts, shared_preferences
from tests.conftest import make_brand

PERSON = {"name": "Dana", "channel": "email", "address": "dana@example.com"}


def brands() -> list:  # type: ignore[type-arg]
    return [
        make_brand(name="a-air", recipients=[{**PERSON, "role": "pr_oncall", "quiet_hours": [22, 7]}]),
        make_brand(name="b-air", recipients=[{**PERSON, "role": "executive", "timezone": "Europe/Paris"}]),
        make_brand(
            name="c-air",
            recipients=[{**PERSON, "address": "DANA@example.com", "quiet_hours": [23, 6], "summary_at": "07:30"}],
        ),
    ]


def test_every_entry_of_a_person_carries_the_same_preferences_whatever_the_order() -> None:
    results = set()
    for order in itertools.permutations(brands()):
        merged = shared_preferences(order)
        entries = [r for b in merged for r in b.recipients]
        prefs = {(r.timezone, r.quiet_hours, r.daily_summary_at, r.name) for r in entries}
        assert len(prefs) == 1
        results |= prefs
    assert results == {("Europe/Paris", (23, 6), time(7, 30), "Dana")}  # the shorter window, the earlier time


def test_roles_and_severities_stay_per_brand() -> None:
    merged = {b.name: b.recipients[0] for b in shared_preferences(brands())}
    assert merged["a-air"].role.value == "pr_oncall" and merged["b-air"].role.value == "executive"


def test_disagreeing_entries_are_named() -> None:
    [line] = conflicts(brands())
    assert line.startswith("Dana: quiet_hours differs") and "(23, 6)" in line
