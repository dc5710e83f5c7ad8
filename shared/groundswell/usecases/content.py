"""What an email or a link needs beyond the incident: its buckets (read once per invocation), facts, sample
posts and chart, and the signed link that acknowledges it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from groundswell.domain.alerting import links
from groundswell.domain.alerting.notices import IncidentView, Notice, facts, with_peers
from groundswell.domain.models import Bucket, Recipient, bucket_start
from groundswell.domain.ports import AlertingStore
from groundswell.observability import logger
from groundswell.usecases.messages import Channels

FACTS_HISTORY = timedelta(days=8)  # the negative share's "usual" and the summary's 7-day average need 8 days


class Content:
    def __init__(self, store: AlertingStore, channels: Channels | None):
        self._store, self._channels = store, channels
        self._reads: dict[tuple[str, datetime, datetime], list[Bucket]] = {}  # buckets read in this invocation

    def start(self) -> None:
        """A new invocation: buckets are read afresh."""
        self._reads.clear()

    def with_facts(self, notice: Notice, now: datetime, peers: Sequence[str] = ()) -> Notice:
        """The notice with its numbers as of sending (the last complete bucket before ``now``): every message
        says how things stand when it is read, not when the incident peaked; with ``peers`` (brand names), its
        share of their negative posts."""
        end, own = bucket_start(now), self._buckets(notice.incident, now)
        found = facts(own, end)
        if peers:
            try:
                earliest = end - FACTS_HISTORY
                found = with_peers(found, own, [self.recent_buckets(p, now, earliest=earliest) for p in peers], end)
            except Exception as exc:  # an extra row: the alert goes without it rather than wait for it
                logger.warning(
                    "peers' counts unreadable: sent without their share",
                    extra={"incident": notice.incident.id, "error": str(exc)[:300]},
                )
        return notice.model_copy(update={"facts": found})

    def email_content(self, notice: Notice, timezone: str, now: datetime, samples: int = 5) -> tuple[Notice, bytes]:
        """The notice (already :meth:`with_facts`) with its sample posts, and its 48-hour chart (the email needs
        them; the SMS does not). Buckets are read once per incident per invocation, whoever the email is for."""
        return self.with_samples(notice, samples), self.chart(notice, timezone, now)

    def with_samples(self, notice: Notice, count: int = 5) -> Notice:
        """The notice with up to ``count`` sample posts of its episode (not of the hours before it)."""
        from groundswell.domain.alerting.samples import choose_samples

        incident = notice.incident
        peak_end = incident.peak_at + timedelta(minutes=5)
        sampled = timedelta(minutes=min(max(incident.window_minutes, 60), 240))  # a long run: its last 4 hours
        episode_start = max(peak_end - sampled, incident.since)
        mentions = self._store.mentions.mentions(incident.brand, episode_start, peak_end)
        chosen = choose_samples(mentions, incident.drivers, count, negative_first=incident.kind == "crisis")
        return notice.model_copy(update={"samples": tuple(chosen)})

    def chart(self, notice: Notice, timezone: str, now: datetime) -> bytes:
        """The brand's 48-hour chart (PNG) up to ``now``, the incident's opening marked."""
        from groundswell.domain.alerting.chart import hourly_series, render_png

        every = notice.incident.kind == "attention"
        title = f"{notice.brand_label}: {'all' if every else 'negative'} mentions per hour, last 48 hours"
        buckets = self._buckets(notice.incident, now)
        return render_png(
            hourly_series(buckets, bucket_start(now), every_mention=every),
            title=title,
            timezone=timezone,
            opened_at=notice.incident.opened_at,
        )

    def _buckets(self, incident: IncidentView, now: datetime) -> list[Bucket]:
        """The brand's buckets for the chart and the facts: read once per incident and invocation."""
        peak_end = incident.peak_at + timedelta(minutes=5)
        earliest = min(peak_end, bucket_start(now)) - FACTS_HISTORY
        return self.recent_buckets(incident.brand, now, earliest=earliest)

    def recent_buckets(self, brand: str, end: datetime, earliest: datetime | None = None) -> list[Bucket]:
        """The brand's buckets for the chart's span before ``end`` (from ``earliest`` if that is sooner)."""
        from groundswell.domain.alerting.chart import HISTORY_DAYS, HOURS

        start = end - timedelta(hours=HOURS, days=HISTORY_DAYS)
        start = min(start, earliest) if earliest else start
        key = (brand, start, end)
        if key not in self._reads:
            self._reads[key] = self._store.mentions.buckets(brand, start, end)
        return self._reads[key]

    def link(self, recipient: Recipient, notices: list[Notice], now: datetime) -> str:
        if self._channels is None:
            raise ValueError("links need the notifier's channels (ALERT_LINK_BASE and its signing key)")
        record = links.LinkRecord(
            recipient=recipient.key,
            recipient_name=recipient.name,
            incidents=tuple(n.incident.id for n in notices),
            brands=tuple(dict.fromkeys(n.incident.brand for n in notices)),
            expires_at=now + self._channels.link_ttl,
        )
        if not self._channels.link_base.startswith(("https://", "http://")):
            raise ValueError("ALERT_LINK_BASE must be the http(s) URL of the acknowledgement endpoint")
        link_id, token = links.new_token(self._channels.link_keys()[0], record)
        self._store.claims.put_link(link_id, record.model_dump_json(), record.expires_at)
        return links.url(self._channels.link_base, token)
