"""What the alerting side knows about an incident and about one message to one recipient.

``IncidentView`` is the contract of the incident JSON the detector stores with each transition
(``groundswell.domain.detection.incidents.Incident``); ``Notice`` is one incident in one message, with everything a
composer needs, so composing is a pure function of notices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from groundswell.domain.models import Bucket, Mention

ATTENTION_AUTHORS = 10  # an attention notice is told only when at least this many people posted


class AlertKind(StrEnum):
    OPEN = "open"
    ESCALATE = "escalate"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    TAKEN = "taken"  # someone acknowledged it: a short note to the others who were told
    ATTENTION = "attention"  # unusual attention (not a crisis): one notice by email and chat, never paging


class IncidentView(BaseModel):
    """An incident as the detector published it (extra fields are ignored: the detector may add more)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    brand: str
    opened_at: datetime
    severity: int = Field(ge=1, le=4)
    pvalue: float
    window_minutes: int
    observed: float
    expected: float
    peak_at: datetime
    current_observed: float
    current_expected: float
    resolved_at: datetime | None = None
    limited_history: bool = False
    baseline_days: float = 0.0
    drivers: tuple[str, ...] = ()
    sources: tuple[tuple[str, float, float], ...] = ()
    started_at: datetime | None = None  # when the swell began (the window that fired at opening started)
    kind: Literal["crisis", "attention"] = "crisis"  # attention: a non-paging notice; its counts are all mentions
    attention_from: datetime | None = None  # a crisis that began as an attention notice: when that opened
    became: str | None = None  # an attention notice that turned into a crisis: the crisis's id
    authors: int | None = None  # an attention notice: distinct authors of its posts (None: not counted)

    @property
    def one_voice(self) -> bool:
        """An attention notice carried by fewer than ``ATTENTION_AUTHORS`` people: a bot or one account
        posting a lot, not attention; nobody is told and the summary leaves it out."""
        return self.kind == "attention" and self.authors is not None and self.authors < ATTENTION_AUTHORS

    @property
    def since(self) -> datetime:
        """When the swell began; the opening for incidents stored before this was known."""
        return self.started_at or self.opened_at

    @property
    def ratio(self) -> float:
        """Peak negatives over expected in the firing window."""
        return self.observed / max(self.expected, 0.1)

    @property
    def current_ratio(self) -> float:
        return self.current_observed / max(self.current_expected, 0.1)


class Facts(BaseModel):
    """Numbers read from the stored counts when the message is composed."""

    model_config = ConfigDict(frozen=True)

    negative_share: float | None = None  # negatives / all mentions over the last hour
    usual_share: float | None = None  # the same over the previous 7 days
    growth: float | None = None  # negatives in the last hour / the hour before
    last_hour_negative: int = 0
    recent_negative: int | None = None  # negatives in the last two hours before ``as_of``
    recent_usual: float | None = None  # the same two hours of the day, on average over the previous 7 days
    recent_total: int | None = None  # all mentions in the same two hours (an attention notice's "right now")
    recent_total_usual: float | None = None
    as_of: datetime | None = None  # the end of the last complete bucket when the message was composed
    peers: int = 0  # the brand's peers (``Brand.peers``) whose counts were read
    peer_share: float | None = None  # the brand's share of its and its peers' negatives, last hour
    peer_usual: float | None = None  # the same over the 7 days before

    @property
    def recent_ratio(self) -> float | None:
        if self.recent_negative is None or not self.recent_usual:
            return None
        return self.recent_negative / self.recent_usual


class Notice(BaseModel):
    """One incident as it appears in one message to one recipient."""

    model_config = ConfigDict(frozen=True)

    kind: AlertKind
    incident: IncidentView
    brand_label: str
    facts: Facts = Facts()
    samples: tuple[Mention, ...] = ()
    note: str = ""  # e.g. "unacknowledged for 30 min"


def facts(buckets: Sequence[Bucket], end: datetime) -> Facts:
    """The numbers as of ``end`` (the end of the last complete bucket when the message is composed): negative
    share of the last hour against the 7 days before, growth over the hour before, and the negatives of the last
    two hours (and all mentions of them) against the same two hours of the day over the 7 days before."""
    hour, before = end - timedelta(hours=1), end - timedelta(hours=2)
    last = [b for b in buckets if hour <= b.start < end]
    previous = [b for b in buckets if before <= b.start < hour]
    week = [b for b in buckets if end - timedelta(days=8) <= b.start < end - timedelta(days=1)]
    total, negative = sum(b.total for b in last), sum(b.negative for b in last)
    week_total = sum(b.total for b in week)
    previous_negative = sum(b.negative for b in previous)
    watched_from = min((b.start for b in buckets), default=end)
    days = [d for d in range(1, 8) if watched_from <= before - timedelta(days=d)]  # days it was already watched

    def usual(count: Callable[[Bucket], int]) -> float | None:
        """The same two hours on each earlier watched day, on average."""
        same = [
            sum(count(b) for b in buckets if before - timedelta(days=d) <= b.start < end - timedelta(days=d))
            for d in days
        ]
        return sum(same) / len(same) if same else None

    return Facts(
        negative_share=negative / total if total else None,
        usual_share=sum(b.negative for b in week) / week_total if week_total else None,
        growth=negative / previous_negative if previous_negative else None,
        last_hour_negative=negative,
        recent_negative=negative + previous_negative,
        recent_usual=usual(lambda b: b.negative),
        recent_total=total + sum(b.total for b in previous),
        recent_total_usual=usual(lambda b: b.total),
        as_of=end,
    )


def with_peers(found: Facts, own: Sequence[Bucket], peers: Sequence[Sequence[Bucket]], end: datetime) -> Facts:
    """``found`` with the brand's share of the negative posts about it and its peers: the last hour before
    ``end``, and the 7 days before it (reported, not evidence: on the airline data it separated no crisis,
    ``benchmarks.peer_benchmark``)."""
    if not peers:
        return found
    hour, week = (end - timedelta(hours=1), end), (end - timedelta(days=8), end - timedelta(days=1))

    def negatives(buckets: Sequence[Bucket], span: tuple[datetime, datetime]) -> int:
        return sum(b.negative for b in buckets if span[0] <= b.start < span[1])

    mine, usual = negatives(own, hour), negatives(own, week)
    pooled = mine + sum(negatives(p, hour) for p in peers)
    pooled_usual = usual + sum(negatives(p, week) for p in peers)
    return found.model_copy(
        update={
            "peers": len(peers),
            "peer_share": mine / pooled if pooled else None,
            "peer_usual": usual / pooled_usual if pooled_usual else None,
        }
    )


def local_time(moment: datetime, timezone: str, with_day: bool = False) -> str:
    """``14:05 EST`` (or ``Mon 14:05 EST``) in the recipient's zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.strftime("%a %H:%M %Z" if with_day else "%H:%M %Z")


def window_label(minutes: int) -> str:
    """15m, 2h, 10h35m (a sustained shift reports its whole run)."""
    hours, rest = divmod(minutes, 60)
    return f"{minutes}m" if not hours else f"{hours}h" if not rest else f"{hours}h{rest:02d}m"
