"""Wiring for the handlers and the CLI: settings -> adapters -> domain. Clients and sources are created on
first use and reused while the Lambda container is warm (a Bluesky session survives between polls)."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, ValidationError

from groundswell.adapters.dynamo import Store, open_store
from groundswell.config import settings
from groundswell.http import deadline
from groundswell.listening import IngestReport, ingest, poll_once
from groundswell.models import BRAND_NAME_PATTERN, Brand, SourceType
from groundswell.observability import count, logger, unreadable
from groundswell.sentiment import Scorer, make_scorer
from groundswell.sources.base import Problem, Source

POLLED_SOURCES = {SourceType.BLUESKY, SourceType.MASTODON, SourceType.HACKERNEWS, SourceType.RSS, SourceType.REPLAY}


class PollRequest(BaseModel):
    """The message the dispatcher puts on the poll queue (a contract: tests/unit/test_contracts.py)."""

    brand: str = Field(pattern=BRAND_NAME_PATTERN)
    source: SourceType
    now: datetime | None = Field(default=None, description="simulated clock; absent in AWS (real time)")


@cache
def store() -> Store:
    from groundswell.adapters.aws import client

    config = settings()
    return open_store(
        client("dynamodb"),
        config.table_name,
        mention_ttl_days=config.mention_ttl_days,
        bucket_ttl_days=config.bucket_ttl_days,
    )


@cache
def scorer() -> Scorer:
    return make_scorer(settings().sentiment_scorer)


@cache
def source(kind: str) -> Source:
    from groundswell.sources.registry import build_source

    config = settings()
    credentials = None
    if kind == "bluesky" and config.bluesky_secret_id:
        secret_id = config.bluesky_secret_id

        def credentials() -> Any:
            from groundswell.adapters.secrets import get_secret_json
            from groundswell.sources.bluesky import BlueskyCredentials

            secret = get_secret_json(secret_id)
            return BlueskyCredentials(identifier=secret["identifier"], app_password=secret["app_password"])

    return build_source(
        kind,
        bluesky_credentials=credentials,
        bluesky_service=config.bluesky_service,
        hackernews_api=config.hackernews_api,
    )


def poll_requests(brands: list[Brand], now: datetime | None = None) -> list[PollRequest]:
    """One request per enabled brand and polled source."""
    return [
        PollRequest(brand=b.name, source=SourceType(s.type), now=now)
        for b in brands
        if b.enabled
        for s in b.sources
        if s.type in POLLED_SOURCES
    ]


def dispatch(now: datetime | None = None) -> int:
    """Puts one poll request per (brand, source) on the poll queue, 10 per SQS call."""
    from groundswell.adapters.aws import client

    queue_url = settings().poll_queue_url
    if not queue_url:
        from groundswell.config import ConfigError

        raise ConfigError("POLL_QUEUE_URL is not set")
    requests = poll_requests(store().brands.list(), now)
    silent = report_silent_sources(requests, now or datetime.now(UTC))
    sqs = client("sqs")
    sent = 0
    for start in range(0, len(requests), 10):
        chunk = requests[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": r.model_dump_json(exclude_none=True)} for i, r in enumerate(chunk)]
        reply = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if reply.get("Failed"):
            raise RuntimeError(f"SQS refused {len(reply['Failed'])} poll requests: {reply['Failed'][0]}")
        sent += len(chunk)
    count("PollsDispatched", sent)
    try:  # after the polls, which matter more; the next cycle writes it again
        store().detector.set_unobserved(unobserved(requests, silent))
    except ClientError as exc:
        logger.error("could not store the brands with every source silent", extra={"error": str(exc)})
    return sent


def report_silent_sources(requests: list[PollRequest], now: datetime) -> list[tuple[str, str]]:
    """(brand, source) pairs watched but not polled successfully for ``SILENT_SOURCE_MINUTES``: the metric
    ``SilentSources`` (its alarm) and a warning naming them. Failing sources show here as well as in
    ``SourceErrors``; a stuck queue or a stopped schedule shows only here."""
    limit = now - timedelta(minutes=settings().silent_source_minutes)
    pairs = [(r.brand, r.source.value) for r in requests]
    last = store().cursors.last_successes(pairs) if pairs else {}
    silent = [pair for pair in pairs if pair in last and last[pair] < limit]
    count("SilentSources", len(silent))
    if silent:
        logger.warning("sources silent", extra={"silent": [f"{b}/{s}" for b, s in silent],
                                                "minutes": settings().silent_source_minutes})  # fmt: skip
    return silent


def unobserved(requests: list[PollRequest], silent: list[tuple[str, str]]) -> set[str]:
    """Brands with every polled source silent: nothing is observed, so their empty buckets are missing data,
    not calm (the detector treats them as paused until a source comes back)."""
    polled: dict[str, set[str]] = {}
    for request in requests:
        polled.setdefault(request.brand, set()).add(request.source.value)
    quiet: dict[str, set[str]] = {}
    for brand, source in silent:
        quiet.setdefault(brand, set()).add(source)
    return {brand for brand, sources in polled.items() if quiet.get(brand) == sources}


POLL_RESERVE_SECONDS = 15.0  # of the Lambda's time, kept to store what was fetched or record the failure


def poll(request: PollRequest, time_left: float | None = None) -> IngestReport | None:
    """Polls one (brand, source); ``None`` when the brand no longer exists or is disabled.

    ``time_left`` (seconds, the Lambda's remaining time) bounds the fetch with its retries, keeping
    ``POLL_RESERVE_SECONDS`` so a failing poll is always recorded and counted before the Lambda ends."""
    brand = store().brands.get(request.brand)
    if brand is None or not brand.enabled or brand.source(request.source.value) is None:
        logger.info("poll request for a brand/source no longer watched; dropped", extra=request.model_dump())
        return None
    now = request.now or datetime.now(UTC)
    budget: AbstractContextManager[None] = nullcontext()
    if time_left is not None:
        budget = deadline(time_left - POLL_RESERVE_SECONDS)
    with budget:
        return poll_once(
            brand,
            source(request.source.value),
            repository=store(),
            scorer=scorer(),
            now=now,
            failing_threshold=settings().failing_source_threshold,
        )


def push_keys() -> tuple[bytes, ...]:
    """The push key, then during ``PUSH_KEY_GRACE_HOURS`` after a rotation the previous one (read again within
    5 minutes of a change)."""
    from groundswell.adapters.secrets import signing_keys
    from groundswell.config import ConfigError

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
    from groundswell.adapters.secrets import signing_keys
    from groundswell.alerting.service import LINK_TTL
    from groundswell.config import ConfigError

    secret_id = settings().alert_link_secret_id
    if not secret_id:
        raise ConfigError("ALERT_LINK_SECRET_ID is not set")
    return signing_keys(secret_id, grace=LINK_TTL)


def accept_push(body: bytes, signature: str | None, now: float | None = None) -> dict[str, Any]:
    """Verifies, parses and ingests a pushed batch; raises ``PushRejected`` with an HTTP status."""
    from groundswell.push import PushRejected, parse_batch, verify
    from groundswell.sources.records import parse_record

    config = settings()
    digest = verify(
        push_keys(), body, signature, now=time.time() if now is None else now, max_skew=config.push_max_skew_seconds
    )
    batch = parse_batch(body)
    brand = store().brands.get(batch.brand)
    if brand is None:
        count("PushUnknownBrand")
        raise PushRejected(404, f"unknown brand {batch.brand!r}: add it with 'groundswell brands add' first")
    # the replay guard is taken only after the batch is stored: a sender retrying after a 5xx (a throttled
    # write) is accepted, and stores its batch once (mentions are recognised by their ids)
    if store().claims.nonce_seen(digest):
        raise PushRejected(409, "this signed request was already accepted (replay)")
    problems: list[Problem] = []
    mentions = [
        m
        for i, raw in enumerate(batch.mentions)
        if (m := parse_record(raw, brand=brand.name, default_source="push", problems=problems, where=f"mentions[{i}]"))
        is not None
    ]
    report = ingest(mentions, problems, scorer=scorer(), repository=store(), source="push")
    if not store().claims.claim_nonce(digest, ttl_seconds=2 * config.push_max_skew_seconds):
        raise PushRejected(409, "this signed request was already accepted (replay)")  # a concurrent copy: stored once
    return {
        "brand": brand.name,
        "received": len(batch.mentions),
        "stored": report.stored,
        "duplicates": report.duplicates,
        "repaired": report.repaired,
        "rejected": [{"item": p.item, "reason": p.reason} for p in problems if p.action != "repaired"],
    }


DETECTOR_LEASE_SECONDS = 150.0  # the detector's 120 s timeout and a margin: a crashed holder frees it by then


def detect(now: datetime | None = None, *, owner: str | None = None) -> dict[str, int]:
    """One detection cycle, under the detector's lease: the single writer of detector state even where the
    function has no reserved concurrency (``DetectorReservedConcurrency=0``). A cycle that finds the lease
    held skips (the next one catches up on every bucket since the last)."""
    owner = owner or uuid.uuid4().hex
    clock = now or datetime.now(UTC)  # a simulation's clock; in AWS, wall time
    if not store().detector.take_lease("detector", owner, DETECTOR_LEASE_SECONDS, clock):
        logger.warning("another detection cycle is running: this one skips, the next catches up")
        count("DetectorCyclesSkipped")
        return {"brands": 0, "buckets": 0, "transitions": 0, "skipped": 1}
    try:
        return _detect(now)
    finally:
        try:  # the cycle's work is done: a lease that cannot be released runs out on its own
            store().detector.release_lease("detector", owner, clock)
        except Exception as exc:
            logger.warning("detector lease not released; it expires by itself", extra={"error": str(exc)[:300]})


def _detect(now: datetime | None) -> dict[str, int]:
    """One detection cycle over every enabled brand: states in, decisions, states and incidents out (a paused
    brand's state is only marked paused, once)."""
    from groundswell.detection.cycle import STATE, run_cycle

    repo = store()
    moment = now or datetime.now(UTC)  # ``now`` stays None in AWS: the notifier's clock is its own
    every = repo.brands.list(include_removed=True)  # a removed brand is paused: its absence is not calm
    unobserved = repo.detector.unobserved()  # every source silent: like paused, nothing to learn from
    brands = [b for b in every if b.enabled and b.name not in unobserved]
    stored = repo.detector.states([b.name for b in every])
    states = {b.name: _detector_state(b.name, stored[b.name], repo, moment) for b in brands}
    watched = {b.name for b in brands}
    newly_paused = _newly_paused([b.name for b in every if b.name not in watched], stored, moment)
    for name in unobserved & set(newly_paused):
        logger.warning("brand unobserved (every source silent): its empty buckets are not learned",
                       extra={"brand": name})  # fmt: skip
    report = run_cycle(states, moment, repo.mentions, settings={b.name: b.detection for b in brands})
    published = 0
    configs = {b.name: b for b in brands}
    for transition in report.transitions:
        incident = transition.incident
        if transition.kind in ("open", "escalate", "update"):
            incident = _with_drivers(incident, configs[incident.brand], repo)
            state = report.states[incident.brand]
            if state.incident is not None and state.incident.id == incident.id:  # keep the state's later buckets
                state.incident = replace(state.incident, drivers=incident.drivers, sources=incident.sources)
        bucket = incident.resolved_at or incident.peak_at
        if repo.incidents.record(incident.brand, incident.id, transition.kind, bucket, to_json(incident.__dict__),
                                  resolved=transition.kind == "resolve"):  # fmt: skip
            published += 1
            logger.info("incident " + transition.kind, extra={"incident": incident.id, "severity": incident.severity,
                                                              "observed": incident.observed,
                                                              "expected": round(incident.expected, 2)})  # fmt: skip
            count("IncidentTransitions", 1, kind=transition.kind)
    # events first, state last: if the function stops in between, the next cycle redoes these buckets and the
    # events it finds already stored are not published again
    states_out = {**report.states, **newly_paused}
    repo.detector.save_states({name: STATE.dump_json(state) for name, state in states_out.items()})
    if published:
        wake_notifier(now)
    return {"brands": report.brands, "buckets": report.buckets, "transitions": published}


def _newly_paused(paused: list[str], stored: dict[str, bytes | None], now: datetime) -> dict[str, Any]:
    """The states of paused brands that the detector has not seen paused yet, marked (``cycle.pause``). An
    unreadable one is left alone: it is rebuilt when the brand is enabled again."""
    from groundswell.detection.cycle import STATE, pause

    marked = {}
    for brand in paused:
        raw = stored.get(brand)
        try:
            state = STATE.validate_json(raw) if raw else None
        except ValidationError:
            continue
        if state is not None and pause(state, now):
            marked[brand] = state
    return marked


def _detector_state(brand: str, raw: bytes | None, repo: Store, now: datetime) -> Any:
    """The brand's stored detector state; one that cannot be read is rebuilt (``cycle.rebuilt_state``) with
    its open incident, so one bad item never stops the cycle for every brand nor alerts twice."""
    from groundswell.detection.cycle import INCIDENT, STATE, rebuilt_state

    if raw is None:
        return None
    try:
        return STATE.validate_json(raw)
    except ValidationError as exc:
        unreadable("detector_state", "detector state unreadable: rebuilding it from the stored buckets",
                   exc if raw else ValueError("not zlib data"), brand=brand)  # fmt: skip
    latest = repo.incidents.history(brand)[-1:]  # oldest first: the last one is open or none is
    try:
        incident = INCIDENT.validate_json(latest[0]) if latest else None
    except ValidationError as exc:
        logger.error("stored incident unreadable: the rebuilt state starts without it",
                     extra={"brand": brand, "problem": exc.errors()[0]["msg"]})  # fmt: skip
        incident = None
    return rebuilt_state(incident if incident and incident.resolved_at is None else None, now)


def wake_notifier(now: datetime | None) -> None:
    """Tells the notifier there is news in the outbox (it also looks on its own every few minutes)."""
    from groundswell.adapters.aws import client

    queue_url = settings().notify_queue_url
    if queue_url:
        body = json.dumps({"now": now.isoformat()} if now else {})
        client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)


@cache
def notifier() -> Any:
    """The notifier with its senders, from the settings (a missing one is named in the error)."""
    from groundswell.adapters.aws import client
    from groundswell.alerting.senders import EndUserMessagingSms, NoSms, OperatorNotices, SesEmail, SmsSender, SnsSms
    from groundswell.alerting.service import Channels, Notifier
    from groundswell.config import ConfigError

    config = settings()
    missing = [name.upper() for name in ("sender_email", "alert_link_secret_id")
               if not getattr(config, name)]  # fmt: skip
    if missing:
        raise ConfigError(f"the notifier needs {', '.join(missing)}")
    sms: SmsSender
    if config.sms_provider == "sns":
        sms = SnsSms(client("sns"), config.sms_origination_identity, max_price=config.sms_max_price)
    elif config.sms_origination_identity:
        sms = EndUserMessagingSms(
            client("pinpoint-sms-voice-v2"), config.sms_origination_identity,
            configuration_set=config.sms_configuration_set, max_price=config.sms_max_price,
        )  # fmt: skip
    else:  # SMS not set up: SMS recipients fall back to email and the operator is told
        sms = NoSms("SMS_ORIGINATION_IDENTITY is not set: this deployment sends no SMS")
    channels = Channels(
        sms=sms, email=SesEmail(client("sesv2"), configuration_set=config.ses_configuration_set),
        operator=OperatorNotices(client("sns"), config.operator_topic_arn), sender_email=str(config.sender_email),
        link_base=config.alert_link_base or "",
        link_keys=link_keys,
        sms_per_day=config.sms_per_day,
    )  # fmt: skip
    return Notifier(store(), channels)


def _with_drivers(incident: Any, brand: Brand, repo: Store) -> Any:
    """The incident with its drivers: its negative mentions (``Incident.evidence_span``) against the day
    before them."""
    from groundswell.detection.drivers import describe
    from groundswell.models import Sentiment

    start, end = incident.evidence_span()
    spike = [m for m in repo.mentions.mentions(brand.name, start, end) if m.sentiment is Sentiment.NEGATIVE]
    baseline = [m for m in repo.mentions.mentions(brand.name, start - timedelta(days=1), start)
                if m.sentiment is Sentiment.NEGATIVE]  # fmt: skip
    terms, sources = describe(spike, baseline, [*brand.terms.keywords, *brand.terms.handles, *brand.terms.hashtags])
    return replace(incident, drivers=terms, sources=sources)


def to_json(value: Any) -> str:
    return json.dumps(value, default=str)
