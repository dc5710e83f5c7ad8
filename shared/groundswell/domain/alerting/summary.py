"""The executives' daily summary: one SMS (or a digest email) per recipient at their local hour.

Per brand: mentions in the last 24 hours and the change against the average of the 7 days before, the
negative share, incidents opened / ongoing / resolved in those 24 hours, and the biggest in a few words;
attention notices (unusual volume, not negative) apart: how many, and the biggest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from groundswell.domain.alerting.notices import IncidentView
from groundswell.domain.alerting.sms import PREFIX, choose, clean
from groundswell.domain.models import Bucket, Recipient

NOT_A_CRISIS = "not a crisis"
LATE_LIMIT = timedelta(hours=3)  # a summary more than 3 hours late (an outage) is skipped, not sent stale


@dataclass(frozen=True)
class BrandDay:
    brand_label: str
    mentions: int  # last 24 hours
    average: float  # mean per 24 hours over the 7 days before
    negative_share: float | None
    opened: int
    ongoing: int
    resolved: int
    biggest: IncidentView | None
    dismissed: int = 0  # incidents someone marked "not a crisis" on the incident page
    biggest_call: str = ""  # the biggest one's verdict, e.g. "not a crisis per Dana"
    attention: int = 0  # attention notices touching the day (those that became a crisis are in the crisis)
    biggest_attention: IncidentView | None = None

    @property
    def change(self) -> float | None:
        return self.mentions / self.average - 1 if self.average >= 1 else None


def brand_day(
    label: str,
    buckets: Sequence[Bucket],
    incidents: Sequence[IncidentView],
    now: datetime,
    calls: Mapping[str, str] | None = None,
) -> BrandDay:
    """The 24 hours before ``now`` against the 7 days before them (buckets of 8 days; incidents of the brand).
    ``calls``: incident id -> a person's verdict on it ("not a crisis per Dana"): the biggest incident is the
    biggest nobody dismissed, and the dismissed ones are counted."""
    calls = calls or {}
    notices = [i for i in incidents if i.kind == "attention" and i.became is None and not i.one_voice]
    incidents = [i for i in incidents if i.kind == "crisis"]
    day_start, week_start = now - timedelta(days=1), now - timedelta(days=8)
    last = [b for b in buckets if day_start <= b.start < now]
    week = [b for b in buckets if week_start <= b.start < day_start]
    total = sum(b.total for b in last)
    negative = sum(b.negative for b in last)
    history_days = min(7.0, (day_start - min((b.start for b in week), default=day_start)).total_seconds() / 86400)
    average = sum(b.total for b in week) / history_days if history_days >= 1 else 0.0
    touching = [i for i in incidents if i.opened_at < now and _touches(i, day_start)]
    standing = [i for i in touching if not calls.get(i.id, "").startswith(NOT_A_CRISIS)] or touching
    biggest = max(standing, key=lambda i: (i.severity, i.ratio), default=None)
    return BrandDay(
        brand_label=label,
        mentions=total,
        average=average,
        negative_share=negative / total if total else None,
        opened=sum(1 for i in touching if i.opened_at >= day_start),
        ongoing=sum(1 for i in touching if i.resolved_at is None or i.resolved_at >= now),
        resolved=sum(1 for i in touching if i.resolved_at is not None and i.resolved_at < now),
        biggest=biggest,
        dismissed=sum(1 for i in touching if calls.get(i.id, "").startswith(NOT_A_CRISIS)),
        biggest_call=calls.get(biggest.id, "") if biggest else "",
        attention=len(attention := [i for i in notices if i.opened_at < now and _touches(i, day_start)]),
        biggest_attention=max(attention, key=lambda i: i.ratio, default=None),
    )


def _touches(incident: IncidentView, day_start: datetime) -> bool:
    return incident.resolved_at is None or incident.resolved_at >= day_start


def summary_text(days: Sequence[BrandDay], local_day: date) -> str:
    """The SMS: one segment when it fits, two at most; brands with incidents first."""
    ordered = sorted(days, key=lambda d: (-(d.biggest.severity if d.biggest else 0), -d.mentions))
    head = f"{PREFIX} daily {local_day:%a %d %b}"

    def brand_line(day: BrandDay, detail: int) -> str:
        label = clean(day.brand_label, 20 if detail else 12)
        change = f" ({day.change:+.0%})" if day.change is not None else ""
        share = f", {day.negative_share:.0%} neg" if day.negative_share is not None else ""
        line = f"{label} {day.mentions:,}{change}{share}"
        notice = day.biggest_attention
        if notice is not None:
            what = ", ".join(notice.drivers[: 2 if detail > 1 else 1])
            count = f"{day.attention} " if day.attention > 1 and detail > 1 else ""
            noticed = f"; {count}attention {notice.ratio:.0f}x" + (f" {what}" if what and detail else "")
            line += clean(noticed, 44)
        if day.biggest is None:
            return line + (", calm" if detail and notice is None else "")
        incidents = f"{day.opened} new/{day.ongoing} open/{day.resolved} over" if detail > 1 else ""
        if day.dismissed and detail > 1:
            incidents += f"/{day.dismissed} {NOT_A_CRISIS}"
        what = ", ".join(day.biggest.drivers[: 2 if detail > 1 else 1])
        big = f"SEV{day.biggest.severity} {day.biggest.ratio:.0f}x" + (f" {what}" if what and detail else "")
        call = f" ({clean(day.biggest_call, 40)})" if day.biggest_call and detail else ""
        return f"{line}; {incidents + '; ' if incidents else ''}{clean(big, 40)}{call}"

    if not ordered:
        return f"{head}: no brands watched."
    variants = [f"{head}: " + ". ".join(brand_line(d, detail) for d in ordered) + "." for detail in (2, 1, 0)]
    variants.append(f"{head}: " + ". ".join(brand_line(d, 0) for d in ordered[:4]) + f" +{len(ordered) - 4} more.")
    return choose(variants if len(ordered) > 4 else variants[:3])


def summary_due(recipient: Recipient, now: datetime) -> date | None:
    """The local date whose summary is due for ``recipient`` at ``now`` (at or after their local summary time,
    by less than ``LATE_LIMIT``), else None. DST-correct: a time skipped by a spring-forward is due at the jump."""
    at = recipient.daily_summary_at
    if at is None:
        return None
    zone = ZoneInfo(recipient.timezone)
    local = now.astimezone(zone)
    for day in (local.date(), local.date() - timedelta(days=1)):
        due = datetime.combine(day, at, tzinfo=zone)
        due = due.astimezone(ZoneInfo("UTC")).astimezone(zone)  # normalise a nonexistent wall time forward
        if due <= local < due + LATE_LIMIT:
            return day
    return None
