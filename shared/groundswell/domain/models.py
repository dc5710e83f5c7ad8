"""The domain's data: brands, their sources and recipients, mentions and buckets.

Validated with pydantic so a bad config fails with the field and the problem named.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

BRAND_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


def brand_slug(display_name: str) -> str:
    """The brand name (slug) for a display name: ``"US Airways"`` -> ``"us-airways"``; "" if nothing is left."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].rstrip("-")


E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
BUCKET_SECONDS = 300


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class SourceType(StrEnum):
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    HACKERNEWS = "hackernews"
    RSS = "rss"
    REPLAY = "replay"
    PUSH = "push"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _valid_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'America/New_York')") from exc
    return value


# ---------------------------------------------------------------- brands ---------------------------------------


class SearchTerms(_Strict):
    """What counts as a mention of the brand. Matching is case-insensitive."""

    keywords: list[str] = Field(default_factory=list, description="phrases, e.g. 'acme air'")
    handles: list[str] = Field(default_factory=list, description="accounts, e.g. '@acmeair' or 'acme.bsky.social'")
    hashtags: list[str] = Field(default_factory=list, description="without '#', e.g. 'acmeair'")
    exclude: list[str] = Field(default_factory=list, description="a mention containing one of these is dropped")

    @field_validator("keywords", "handles", "hashtags", "exclude")
    @classmethod
    def _clean(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            value = value.strip()
            if not value:
                raise ValueError("empty term")
            if len(value) > 100:
                raise ValueError(f"term longer than 100 characters: {value[:20]!r}...")
            cleaned.append(value)
        return cleaned

    @field_validator("hashtags")
    @classmethod
    def _hashtag_shape(cls, values: list[str]) -> list[str]:
        tags = [v.lstrip("#") for v in values]
        for tag in tags:
            if not re.fullmatch(r"\w+", tag):
                raise ValueError(f"hashtag {tag!r} may contain only letters, digits and '_'")
        return tags

    @model_validator(mode="after")
    def _something_to_search(self) -> SearchTerms:
        if not (self.keywords or self.handles or self.hashtags):
            raise ValueError("at least one keyword, handle or hashtag is needed")
        return self

    def query_phrases(self) -> list[str]:
        """The phrases a full-text source searches for (keywords, then handles, then hashtags)."""
        return [*self.keywords, *(h.lstrip("@") for h in self.handles), *(f"#{t}" for t in self.hashtags)]


class BlueskySource(_Strict):
    type: Literal["bluesky"] = "bluesky"
    lang: str | None = Field(default=None, description="optional language filter, e.g. 'en'")


class MastodonSource(_Strict):
    type: Literal["mastodon"] = "mastodon"
    servers: list[HttpUrl] = Field(min_length=1, max_length=20)


class HackerNewsSource(_Strict):
    type: Literal["hackernews"] = "hackernews"
    tags: Literal["story", "comment", "(story,comment)"] = "(story,comment)"


class RssSource(_Strict):
    type: Literal["rss"] = "rss"
    feeds: list[HttpUrl] = Field(min_length=1, max_length=50)


class ReplaySource(_Strict):
    type: Literal["replay"] = "replay"
    uri: str = Field(description="a local path or s3://bucket/key of a JSON Lines file")

    @field_validator("uri")
    @classmethod
    def _uri_shape(cls, value: str) -> str:
        if value.startswith("s3://") and len(value.split("/", 3)) < 4:
            raise ValueError("an S3 uri needs a bucket and a key: s3://bucket/key.jsonl")
        return value


SourceConfig = Annotated[
    BlueskySource | MastodonSource | HackerNewsSource | RssSource | ReplaySource, Field(discriminator="type")
]


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"
    PAGERDUTY = "pagerduty"


PAGING_CHANNELS = (Channel.WEBHOOK, Channel.PAGERDUTY)  # no daily summary unless one is asked for
PAGERDUTY_KEY = re.compile(r"^[A-Za-z0-9]{32}$")


class Role(StrEnum):
    PR_ONCALL = "pr_oncall"
    COMMS_LEAD = "comms_lead"
    EXECUTIVE = "executive"


class Recipient(_Strict):
    """Who hears about a brand's incidents (the alerting side reads these)."""

    name: str = Field(min_length=1, max_length=80)
    channel: Channel
    address: str = Field(
        description="E.164 phone number, email address, https webhook URL, or a PagerDuty Events API v2 "
        "integration (routing) key"
    )
    webhook_format: Literal["slack", "teams", "generic"] | None = Field(
        default=None, description="webhooks: the payload shape; by default from the host (Slack, Teams, else generic)"
    )
    role: Role = Role.PR_ONCALL
    timezone: str = "UTC"
    quiet_hours: tuple[int, int] | None = Field(default=None, description="[start_hour, end_hour) local time")
    min_severity: int = Field(default=1, ge=1, le=4)
    summary_at: time | None = Field(
        default=None, description="local time of the daily summary (SMS) or digest (email); executives: 08:00"
    )
    fallback_email: str | None = Field(default=None, description="SMS recipients: where alerts go after STOP")

    _tz = field_validator("timezone")(_valid_timezone)

    @field_validator("fallback_email")
    @classmethod
    def _fallback_shape(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"not a valid email address: {value!r}")
        return value

    @property
    def key(self) -> str:
        """A stable token for this recipient in keys and logs (never the address itself)."""
        digest = hashlib.blake2b(f"{self.channel}:{self.address.lower()}".encode(), digest_size=8).hexdigest()
        return f"{self.channel}-{digest}"

    @property
    def daily_summary_at(self) -> time | None:
        """When this recipient's daily summary is due (local time), or None for no summary."""
        if self.summary_at is not None or self.role is not Role.EXECUTIVE or self.channel in PAGING_CHANNELS:
            return self.summary_at
        return time(8, 0)

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not all(0 <= h <= 23 for h in value):
            raise ValueError("quiet hours are two hours of the day, 0-23")
        return value

    @model_validator(mode="after")
    def _address_fits_channel(self) -> Recipient:
        if self.channel is Channel.SMS and not E164.match(self.address):
            raise ValueError("an SMS address must be an E.164 phone number such as +14155550100")
        if self.channel is Channel.EMAIL and not EMAIL.match(self.address):
            raise ValueError(f"not a valid email address: {self.address!r}")
        if self.channel is Channel.PAGERDUTY and not PAGERDUTY_KEY.match(self.address):
            raise ValueError(
                "a pagerduty address must be the 32-character integration key of an Events API v2 integration"
            )
        if self.channel is Channel.WEBHOOK and not self.address.startswith("https://"):
            raise ValueError("a webhook address must be an https:// URL")
        return self


class PlannedEvent(_Strict):
    """A launch, campaign or announcement: more mentions are expected, so alerting is stricter meanwhile."""

    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> PlannedEvent:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("planned event times need a time zone offset, e.g. 2026-12-01T09:00:00-05:00")
        if self.end <= self.start:
            raise ValueError("a planned event must end after it starts")
        return self


class DetectionSettings(_Strict):
    """How readily this brand alerts (docs/detector.md has the false-alert rates of the presets)."""

    sensitivity: Literal["fewer", "balanced", "more"] = "balanced"
    min_negative: int = Field(default=3, ge=1, le=10_000, description="fewer negatives in a window are no evidence")
    planned_events: list[PlannedEvent] = Field(default_factory=list, max_length=100)

    def planned_at(self, moment: datetime) -> bool:
        return any(e.start <= moment < e.end for e in self.planned_events)


class EscalationStep(_Strict):
    """Recipients of ``role`` are alerted once an incident is unacknowledged this long after it opened."""

    role: Role
    after_minutes: int = Field(ge=0, le=7 * 24 * 60)


def _default_ladder() -> list[EscalationStep]:
    return [
        EscalationStep(role=Role.PR_ONCALL, after_minutes=0),
        EscalationStep(role=Role.COMMS_LEAD, after_minutes=30),
    ]


class AlertPolicy(_Strict):
    """How incidents reach people: the escalation ladder and reminders (docs/alerts.md)."""

    escalation: list[EscalationStep] = Field(default_factory=_default_ladder, min_length=1, max_length=10)
    reminder_minutes: int = Field(default=60, ge=0, le=24 * 60, description="0: no reminders while unacknowledged")
    reminder_max_minutes: int = Field(
        default=480, ge=1, le=24 * 60, description="reminders back off, doubling from reminder_minutes up to this"
    )
    sms_per_recipient_per_day: int = Field(default=20, ge=1, le=500)

    @model_validator(mode="after")
    def _first_step_now(self) -> AlertPolicy:
        if min(step.after_minutes for step in self.escalation) != 0:
            raise ValueError("the escalation ladder needs a step with after_minutes: 0 (who hears first)")
        return self

    def roles_due(self, minutes_open: float) -> set[Role]:
        return {step.role for step in self.escalation if step.after_minutes <= minutes_open}


class Brand(_Strict):
    """A watched brand: what to search for, where, and who to tell."""

    name: str = Field(pattern=BRAND_NAME_PATTERN, description="slug used in keys, e.g. 'acme-air'")
    display_name: str = Field(default="", max_length=100)
    terms: SearchTerms
    sources: list[SourceConfig] = Field(min_length=1)
    timezone: str = "UTC"
    recipients: list[Recipient] = Field(default_factory=list)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    alerting: AlertPolicy = Field(default_factory=AlertPolicy)
    enabled: bool = True
    backfill_days: int = Field(
        default=7, ge=0, le=14, description="days of history fetched when the brand or a source is added (0: none)"
    )
    peers: list[Annotated[str, Field(pattern=BRAND_NAME_PATTERN)]] = Field(
        default_factory=list,
        max_length=10,
        description="watched brands to compare with (e.g. other airlines): alerts show this brand's share of "
        "their negative posts",
    )

    _tz = field_validator("timezone")(_valid_timezone)

    @model_validator(mode="after")
    def _peers_are_others(self) -> Brand:
        if self.name in self.peers or len(set(self.peers)) != len(self.peers):
            raise ValueError("peers: other brands' names, each once (not the brand itself)")
        return self

    @model_validator(mode="after")
    def _one_config_per_source(self) -> Brand:
        kinds = [s.type for s in self.sources]
        duplicates = sorted({k for k in kinds if kinds.count(k) > 1})
        if duplicates:
            raise ValueError(f"each source may appear once; repeated: {', '.join(duplicates)}")
        return self

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def source(self, kind: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.type == kind), None)


# ---------------------------------------------------------------- mentions -------------------------------------


class Mention(BaseModel):
    """One post about a brand, normalised from any source."""

    model_config = ConfigDict(frozen=True)

    source: str
    id: str = Field(min_length=1, max_length=512, description="the source's own stable id (Mastodon: uri)")
    brand: str
    # bounds that keep every item far below DynamoDB's 400 KB (sources repair within tighter ones, with a
    # warning: sources.base.bound_fields); generous enough that no mention stored before them is unreadable
    text: str = Field(max_length=4000)
    author: str = Field(max_length=300)
    created_at: datetime
    url: str | None = Field(default=None, max_length=8192)
    likes: int = Field(default=0, ge=0)
    reposts: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    language: str | None = Field(default=None, max_length=64)
    sentiment: Sentiment | None = None
    sentiment_score: float | None = None

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("created_at needs a time zone offset (e.g. 2015-02-22T14:05:00Z)")
        return value.astimezone(UTC)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.id}"

    @property
    def engagement(self) -> int:
        return self.likes + self.reposts + self.replies


def bucket_start(moment: datetime, seconds: int = BUCKET_SECONDS) -> datetime:
    """The start of the fixed-width bucket (UTC) that ``moment`` falls in."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


class Bucket(BaseModel):
    """Counts of one brand's mentions in one 5-minute bucket."""

    brand: str
    start: datetime
    total: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    negative_authors: int = 0
    engagement: int = 0
