"""SMS texts: GSM-7 only, one 160-character segment whenever possible, never more than two.

Every text is built from the most to the least detailed variant and the first that fits is kept; text taken
from posts (drivers, brand names) is transliterated to GSM-7 and bounded first. The link is never cut. What the
crisis is about is kept longest: the time it started and the long form of the numbers go first.
"""

from __future__ import annotations

from collections.abc import Sequence

from groundswell.domain.alerting.gsm import MULTI, SINGLE, fit, gsm_units, to_gsm
from groundswell.domain.alerting.notices import AlertKind, Notice, local_time, window_label

MAX_SEGMENTS = 2
PREFIX = "Groundswell"
_KIND_WORD = {
    AlertKind.OPEN: "",
    AlertKind.ESCALATE: "WORSE ",
    AlertKind.REMINDER: "REMINDER ",
    AlertKind.RESOLVED: "ALL CLEAR ",
    AlertKind.TAKEN: "TAKEN ",
    AlertKind.ATTENTION: "ATTENTION ",
}


def clean(text: str, limit: int) -> str:
    """Untrusted text as GSM-7, at most ``limit`` septets."""
    return fit(to_gsm(text), limit)


def _numbers(notice: Notice, timezone: str, *, since: bool = True) -> str:
    incident = notice.incident
    window = window_label(incident.window_minutes)
    numbers = f"{incident.observed:.0f} negative posts in {window}, {incident.ratio:.0f}x normal"
    return f"{numbers}, since {local_time(incident.since, timezone)}" if since else numbers


def _what(notice: Notice, limit: int = 40) -> str:
    drivers = [to_gsm(d) for d in notice.incident.drivers[:3]]
    return clean("About: " + ", ".join(d for d in drivers if d), limit) if any(drivers) else ""


def incident_text(notice: Notice, link: str, timezone: str) -> str:
    """One incident's SMS: kind, severity, brand, the key number, what it is about, the link."""
    brand = clean(notice.brand_label, 30)
    incident = notice.incident
    recent = notice.facts.recent_negative
    if notice.kind is AlertKind.TAKEN:
        head = f"{PREFIX} SEV{incident.severity} {brand}: {clean(notice.note, 60) or 'acknowledged'}"
        variants = [f"{head}. Nothing to do. Details: {link}", f"{head}. {link}"]
    elif notice.kind is AlertKind.RESOLVED and incident.resolved_at is not None:
        head = f"{PREFIX} ALL CLEAR {brand}: back to normal since {local_time(incident.resolved_at, timezone)}"
        lasted = window_label(max(5, round((incident.resolved_at - incident.since).total_seconds() / 60)))
        peak = f"peak {incident.observed:.0f} neg/{window_label(incident.window_minutes)} {incident.ratio:.0f}x"
        now = f"; now {recent}/2h" if recent is not None else ""
        variants = [
            f"{head} (lasted {lasted}, {peak}{now}). {link}",
            f"{head} (lasted {lasted}, {peak}). {link}",
            f"{head} (lasted {lasted}). {link}",
            f"{head}. {link}",
        ]
    else:
        head = f"{PREFIX} {_KIND_WORD[notice.kind]}SEV{incident.severity} {brand}"
        note = f" ({clean(notice.note, 30)})" if notice.note else ""
        what = _what(notice)
        top = clean(incident.drivers[0], 20) if incident.drivers else ""
        numbers = _numbers(notice, timezone)
        bare = _numbers(notice, timezone, since=False)
        short = f"{incident.observed:.0f} neg/{window_label(incident.window_minutes)} {incident.ratio:.0f}x"
        if notice.kind is AlertKind.REMINDER and recent is not None:  # how it stands now, then the last report
            # the detector republishes a new peak only when it is 1.5x the last: the reported one is dated
            window, reported = window_label(incident.window_minutes), local_time(incident.peak_at, timezone)
            bare = f"now {recent} negative posts in 2h ({incident.observed:.0f} in {window} at {reported})"
            numbers = f"{bare}, since {local_time(incident.since, timezone)}"
            short = f"now {recent} neg/2h ({incident.observed:.0f}/{window} at {reported.split()[0]})"
        # what it is about outlasts the detail. Dropped in this order when space is short: "since", the long
        # numbers, the note, "About" (down to the top driver), "Ack:"; never the link (test_alert_composition)
        variants = [
            f"{head}{note}: {numbers}. {what}. Ack: {link}" if what else "",
            f"{head}{note}: {bare}. {what}. Ack: {link}" if what else "",
            f"{head}{note}: {short}. {what}. Ack: {link}" if what else "",
            f"{head}: {short}. {what}. Ack: {link}" if what else "",
            f"{head}{note}: {numbers}. Ack: {link}",
            f"{head}: {short}, {top}. Ack: {link}" if top else "",
            f"{head}: {short}. Ack: {link}",
            f"{head}: {short}, {top}. {link}" if top else "",
            f"{head}: {short}. {link}",
        ]
    return choose([v.replace(". .", ".") for v in variants if v])


def grouped_text(notices: Sequence[Notice], link: str, timezone: str) -> str:
    """Several incidents (of several brands) to one recipient in one cycle: one SMS."""
    if len(notices) == 1:
        return incident_text(notices[0], link, timezone)
    items = []
    for notice in notices:
        incident, brand = notice.incident, clean(notice.brand_label, 20)
        if notice.kind is AlertKind.RESOLVED:
            items.append(f"{brand} all clear")
        elif notice.kind is AlertKind.TAKEN:
            items.append(f"{brand} {clean(notice.note, 30)}")
        else:
            items.append(
                f"{_KIND_WORD[notice.kind]}SEV{incident.severity} {brand} {incident.observed:.0f} neg/"
                f"{window_label(incident.window_minutes)} {incident.ratio:.0f}x"
            )
    head = f"{PREFIX} {len(notices)} alerts"
    variants = [
        f"{head}: {'; '.join(items)}. Ack: {link}",
        f"{head}: {'; '.join(items[:3])}; more... Ack: {link}",
        f"{head} ({', '.join(clean(n.brand_label, 12) for n in notices[:4])}). {link}",
    ]
    return choose(variants)


def choose(variants: Sequence[str]) -> str:
    """The first variant that fits one segment, else the first that fits two, else the last one cut to two."""
    for limit in (SINGLE, MULTI * MAX_SEGMENTS):
        for text in variants:
            units = gsm_units(text)
            if units is not None and units <= limit:
                return text
    return fit(variants[-1], MULTI * MAX_SEGMENTS)
