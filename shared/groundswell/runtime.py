"""The composition root: settings -> adapters -> use cases, for the handlers and the command line.

Each factory builds one thing on first use and keeps it while the Lambda container is warm (a Bluesky
session survives between polls). A factory imports what only its own function ships (numpy and scipy for
the detector; Jinja2 and Pillow for the notifier) when it is called, so the layer imports in every function
(``tests/integration/test_shipped_functions.py`` runs each handler from what ``sam build`` ships)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from groundswell.adapters.aws import client
from groundswell.adapters.dynamo import Store, open_store
from groundswell.adapters.http import deadline
from groundswell.adapters.secrets import get_secret_json, signing_keys
from groundswell.adapters.sqs import Queue, wake_up
from groundswell.config import ConfigError, settings
from groundswell.domain.alerting import links
from groundswell.domain.listening import IngestReport
from groundswell.domain.ports import CursorConflict
from groundswell.domain.sentiment import Scorer
from groundswell.domain.sources import Source
from groundswell.usecases import dispatch as dispatching
from groundswell.usecases import poll as polling
from groundswell.usecases import push as pushing
from groundswell.usecases.dispatch import PollRequest, poll_requests

if TYPE_CHECKING:
    from groundswell.domain.backfill import BackfillRequest
    from groundswell.domain.models import Brand
    from groundswell.usecases.backfill import BackfillReport
    from groundswell.usecases.notify import Notifier

__all__ = ["PollRequest", "poll_requests"]

POLL_RESERVE_SECONDS = 15.0  # of the poller's time, kept to store what was fetched or record the failure


@cache
def store() -> Store:
    config = settings()
    return open_store(
        client("dynamodb"),
        config.table_name,
        mention_ttl_days=config.mention_ttl_days,
        bucket_ttl_days=config.bucket_ttl_days,
    )


def make_scorer(name: str = "default") -> Scorer:
    """The scorer configured by name: ``default`` (offline, VADER + complaint rules) or ``comprehend``."""
    if name == "default":
        from groundswell.domain.sentiment.complaints import ComplaintAwareVader

        return ComplaintAwareVader()
    if name == "comprehend":
        from groundswell.adapters.comprehend import ComprehendScorer

        return ComprehendScorer()
    raise ValueError(f"unknown sentiment scorer {name!r}: use 'default' or 'comprehend'")


@cache
def scorer() -> Scorer:
    return make_scorer(settings().sentiment_scorer)


@cache
def source(kind: str) -> Source:
    from groundswell.adapters.sources.bluesky import BlueskyCredentials
    from groundswell.adapters.sources.registry import build_source

    config = settings()
    credentials = None
    if kind == "bluesky" and config.bluesky_secret_id:
        secret_id = config.bluesky_secret_id

        def credentials() -> BlueskyCredentials:
            secret = get_secret_json(secret_id)
            return BlueskyCredentials(identifier=secret["identifier"], app_password=secret["app_password"])

    return build_source(
        kind,
        bluesky_credentials=credentials,
        bluesky_service=config.bluesky_service,
        hackernews_api=config.hackernews_api,
    )


def dispatch(now: datetime | None = None) -> int:
    """Puts one poll request per (brand, source) on the poll queue. ``now``: a simulation's clock."""
    queue_url = settings().poll_queue_url
    if not queue_url:
        raise ConfigError("POLL_QUEUE_URL is not set")
    repo = store()
    return dispatching.dispatch(
        repo.brands,
        repo.cursors,
        repo.detector,
        Queue(client("sqs"), queue_url),
        now=now or datetime.now(UTC),
        silent_minutes=settings().silent_source_minutes,
        simulated=now is not None,
    )


def poll(request: PollRequest, time_left: float | None = None) -> IngestReport | None:
    """Polls one (brand, source). ``time_left`` (the Lambda's remaining seconds) bounds the fetch with its
    retries, keeping ``POLL_RESERVE_SECONDS`` so that a failing poll is always recorded and counted in time."""
    return polling.poll(
        request,
        store().brands,
        store(),
        source(request.source.value),
        scorer(),
        now=request.now or datetime.now(UTC),
        failing_threshold=settings().failing_source_threshold,
        budget=None if time_left is None else deadline(time_left - POLL_RESERVE_SECONDS),
    )


def queue_backfills(brands: Sequence[Brand], now: datetime | None = None) -> int:
    """Queues the backfill of each brand's history sources whose backfill was never queued (a new brand, a new
    source: ``backfill.not_yet_queued``), then notes them queued; returns how many brand-days were queued.
    If queueing fails, nothing is noted and running it again queues them (a day queued twice is fetched once:
    its progress is kept). ``now``: a simulation's clock."""
    from groundswell.domain.backfill import MARKER, not_yet_queued, plan, queued_key

    queue_url = settings().backfill_queue_url
    moment = now or datetime.now(UTC)
    requests, queued = [], []
    for brand in brands:
        if not brand.backfill_days:
            continue
        added = not_yet_queued(brand, store().cursors.states_under(brand.name, MARKER))
        planned = plan(brand, added, moment, brand.backfill_days)
        requests += planned
        queued += [(brand.name, source, len(planned) // len(added)) for source in added]
    if not requests:
        return 0
    if not queue_url:
        raise ConfigError("BACKFILL_QUEUE_URL is not set: the backfill of new brands cannot be queued")
    sent = Queue(client("sqs"), queue_url).send_all([r.model_dump_json() for r in requests])
    for name, source, count in queued:
        try:
            store().cursors.save(name, queued_key(source), {"days": count}, 0, polled_at=moment)
        except CursorConflict:
            continue  # another 'brands add' noted it first
    return sent


def backfill(request: BackfillRequest, time_left: float | None = None) -> BackfillReport:
    """Backfills one brand-day of one source, within the Lambda's remaining time (less the poll reserve)."""
    from groundswell.domain.backfill import history_sources, plan
    from groundswell.usecases.backfill import backfill_day

    brand = store().brands.get(request.brand)
    sources = history_sources(brand) if brand else []
    return backfill_day(
        request,
        brand,
        store(),
        source(request.source.value),
        scorer(),
        plan=plan(brand, sources, request.until, brand.backfill_days) if brand else [],
        seconds_left=None if time_left is None else time_left - POLL_RESERVE_SECONDS,
    )


def push_keys() -> tuple[bytes, ...]:
    """The push key, then during ``PUSH_KEY_GRACE_HOURS`` after a rotation the previous one (read again within
    5 minutes of a change)."""
    config = settings()
    if not config.push_secret_id:
        raise ConfigError("PUSH_SECRET_ID is not set")
    return signing_keys(config.push_secret_id, grace=timedelta(hours=config.push_key_grace_hours))


def push_key() -> bytes:
    """The current push key (what a sender signs with)."""
    return push_keys()[0]


def link_keys() -> tuple[bytes, ...]:
    """The alert-link key, then for a link's lifetime after a rotation the previous one, so links already
    sent keep working until they expire."""
    secret_id = settings().alert_link_secret_id
    if not secret_id:
        raise ConfigError("ALERT_LINK_SECRET_ID is not set")
    return signing_keys(secret_id, grace=links.LINK_TTL)


def accept_push(body: bytes, signature: str | None, now: float | None = None) -> dict[str, Any]:
    """Verifies, parses and ingests a pushed batch; raises ``PushRejected`` with its reason."""
    return pushing.accept_push(
        body,
        signature,
        keys=push_keys(),
        store=store(),
        scorer=scorer(),
        now=time.time() if now is None else now,
        max_skew=settings().push_max_skew_seconds,
    )


def detect(now: datetime | None = None, *, owner: str | None = None) -> dict[str, int]:
    """One detection cycle at ``now`` (a simulation's clock; in AWS, wall time), then the notifier is woken."""
    from groundswell.usecases.detect import detect as run

    return run(store(), now or datetime.now(UTC), owner=owner or uuid.uuid4().hex, wake=lambda: wake_notifier(now))


def wake_notifier(now: datetime | None) -> None:
    """Tells the notifier there is news in the outbox (it also looks on its own every few minutes)."""
    queue_url = settings().notify_queue_url
    if queue_url:
        Queue(client("sqs"), queue_url).send(wake_up(now))


@cache
def notifier() -> Notifier:
    """The notifier with its senders, from the settings (a missing one is named in the error)."""
    from groundswell.adapters.messaging import (
        EndUserMessagingSms,
        NoSms,
        OperatorNotices,
        PagerDutyEvents,
        SesEmail,
        SnsSms,
        Webhook,
    )
    from groundswell.domain.ports import SmsSender
    from groundswell.usecases.notify import Channels, Notifier

    config = settings()
    missing: Sequence[str] = [n.upper() for n in ("sender_email", "alert_link_secret_id") if not getattr(config, n)]
    if missing:
        raise ConfigError(f"the notifier needs {', '.join(missing)}")
    sms: SmsSender
    if config.sms_provider == "sns":
        sms = SnsSms(client("sns"), config.sms_origination_identity, max_price=config.sms_max_price)
    elif config.sms_origination_identity:
        sms = EndUserMessagingSms(
            client("pinpoint-sms-voice-v2"),
            config.sms_origination_identity,
            configuration_set=config.sms_configuration_set,
            max_price=config.sms_max_price,
        )
    else:  # SMS not set up: SMS recipients fall back to email and the operator is told
        sms = NoSms("SMS_ORIGINATION_IDENTITY is not set: this deployment sends no SMS")
    channels = Channels(
        sms=sms,
        email=SesEmail(client("sesv2"), configuration_set=config.ses_configuration_set),
        operator=OperatorNotices(client("sns"), config.operator_topic_arn),
        webhook=Webhook(),
        pagerduty=PagerDutyEvents(),
        sender_email=str(config.sender_email),
        link_base=config.alert_link_base or "",
        link_keys=link_keys,
        sms_per_day=config.sms_per_day,
    )
    return Notifier(store(), channels)
