"""One person, one set of preferences: a recipient listed under several brands (the same channel and address)
has one time zone, one quiet-hours setting, one daily summary and one fallback email, whatever order the
brands are listed in. What they receive (role, ``min_severity``) stays per brand: someone can be the
on-call for one brand and an executive of another.

Where the entries disagree, the rule is fixed and documented (docs/alerts.md), and ``brands add`` warns:
- time zone: the one other than UTC if they agree, else the first in alphabetical order;
- quiet hours: set on any entry, they apply to the person; of different windows, the shortest (fewest hours
  held back; ties: the earliest start);
- daily summary: due if any entry asks for one (``summary_at``, or the executive role), at the earliest time;
- fallback email: the first in alphabetical order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import time

from groundswell.domain.models import Brand, Recipient

Preferences = dict[str, object]


def shared_preferences(brands: Iterable[Brand]) -> list[Brand]:
    """The brands with every recipient entry carrying its person's merged preferences."""
    brands = list(brands)
    merged = {key: _merge(entries) for key, entries in _entries_by_person(brands).items()}
    return [
        brand.model_copy(update={"recipients": [r.model_copy(update=merged[r.key]) for r in brand.recipients]})
        for brand in brands
    ]


def conflicts(brands: Iterable[Brand]) -> list[str]:
    """One line per person whose entries under several brands set different preferences, saying which wins."""
    lines = []
    for entries in _entries_by_person(list(brands)).values():
        merged = _merge(entries)
        for name in ("timezone", "quiet_hours", "fallback_email"):
            values = {getattr(r, name) for r in entries} - {None, "UTC"}
            if len(values) > 1:
                lines.append(f"{entries[0].name}: {name} differs between brands; {merged[name]!r} applies to all")
    return lines


def _entries_by_person(brands: list[Brand]) -> dict[str, list[Recipient]]:
    people: dict[str, list[Recipient]] = defaultdict(list)
    for brand in brands:
        for recipient in brand.recipients:
            people[recipient.key].append(recipient)
    return people


def _merge(entries: list[Recipient]) -> Preferences:
    zones = sorted({r.timezone for r in entries} - {"UTC"})
    windows = sorted({r.quiet_hours for r in entries if r.quiet_hours is not None}, key=_quiet_order)
    summaries = sorted(at for r in entries if (at := r.daily_summary_at) is not None)
    fallbacks = sorted({r.fallback_email for r in entries if r.fallback_email})
    summary: time | None = summaries[0] if summaries else None
    return {
        "name": sorted(r.name for r in entries)[0],
        "timezone": zones[0] if zones else "UTC",
        "quiet_hours": windows[0] if windows else None,
        "summary_at": summary,
        "fallback_email": fallbacks[0] if fallbacks else None,
    }


def _quiet_order(window: tuple[int, int]) -> tuple[int, int]:
    start, end = window
    return ((end - start) % 24, start)
