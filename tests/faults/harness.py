"""A fault-injection harness over every AWS call the functions make.

:class:`Faults` hooks boto3's default session (every client the adapters create): it records each call by
(service, operation, call site) and can fail the n-th call at one site with a fault:

- ``throttle``: a ``ThrottlingException``, or for a transaction a ``TransactionCanceledException`` whose
  reasons are ``ThrottlingError`` (what is left after botocore's own retries);
- ``conflict``: ``TransactionConflict`` reasons (DynamoDB transactions only);
- ``error500``: an ``InternalServerError`` (HTTP 500);
- ``timeout_after``: the call takes effect, then the client times out (a ``ReadTimeoutError``).

:func:`run_scenario` plays a crisis through the real handlers on in-process moto, as Lambda would (scheduled
retries, SQS redelivery and dead letters): a brand with history, polls and pushes, detector cycles, notifier
drains and ticks, an on-call's SMS ack, a comms lead's quiet hours, an executive's daily summary. It returns
what an operator would check afterwards: mentions counted, messages delivered, metrics emitted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, ReadTimeoutError

FAULTS = ("throttle", "conflict", "error500", "timeout_after")
SCENARIO_START = datetime.fromisoformat("2026-11-02T00:00:00+00:00")
HISTORY_HOURS = 30  # learned before the stepped part (stored directly, judged in one catch-up cycle)
STEPS = 32  # 2 h 40 min of 5-minute steps: the crisis opens, escalates, is acknowledged, held, summarised
CRISIS_HOUR = 31.0  # 01:00 local on the second night (America/New_York is UTC-5): the comms lead's quiet hours
ON_CALL = "+12025550143"
CEO = "+12025550178"
RECIPIENTS = [
    {
        "name": "On-call",
        "channel": "sms",
        "address": ON_CALL,
        "role": "pr_oncall",
        "timezone": "America/New_York",
        "fallback_email": "oncall@example.com",
    },
    {"name": "Desk", "channel": "email", "address": "desk@example.com", "role": "pr_oncall"},
    {
        "name": "Lead",
        "channel": "email",
        "address": "lead@example.com",
        "role": "comms_lead",
        "timezone": "America/New_York",
        "quiet_hours": [1, 3],
    },
    {
        "name": "CEO",
        "channel": "sms",
        "address": CEO,
        "role": "executive",
        "timezone": "America/New_York",
        "summary_at": "03:00",
    },
]


@dataclass(frozen=True)
class Site:
    service: str
    operation: str
    where: str  # file:function of the project's code that made the call

    def __str__(self) -> str:
        return f"{self.service}.{self.operation} @ {self.where}"


@dataclass
class Faults:
    """Records calls by site; fails the ``nth`` call at ``target`` with ``fault`` (once)."""

    target: Site | None = None
    fault: str = ""
    nth: int = 1
    calls: Counter[Site] = field(default_factory=Counter)
    injected: int = 0
    armed: bool = False  # calls are recorded and faulted only once the scenario's stepped part begins

    def install(self) -> None:
        session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)

    def uninstall(self) -> None:
        session = boto3.DEFAULT_SESSION
        if session is not None:
            session.events.unregister("before-call", self._before)
            session.events.unregister("after-call", self._after)

    def _site(self, model: Any) -> Site | None:
        """The innermost project function that made the call, passing over the repositories' private helpers
        and the table module (a query helper serves many call sites)."""
        frame = sys._getframe(2)
        while frame is not None:
            path = frame.f_code.co_filename.replace(os.sep, "/")
            name = frame.f_code.co_name
            helper = (
                name.startswith("<")
                or path.endswith(("/adapters/dynamo/table.py", "/sources/replay.py"))
                or ("/adapters/dynamo/" in path and name.startswith("_"))
            )
            for root in ("/shared/groundswell/", "/functions/"):
                if root in path and not helper:
                    return Site(model.service_model.endpoint_prefix, model.name, f"{path.split(root)[-1]}:{name}")
            frame = frame.f_back  # type: ignore[assignment]
        return None  # the harness's own calls (SQS receive, moto setup): never faulted

    def _due(self, model: Any) -> bool:
        if not self.armed:
            return False
        site = self._site(model)
        if site is None:
            return False
        self.calls[site] += 1
        return site == self.target and self.calls[site] == self.nth

    def _before(self, model: Any, params: Any, **_: Any) -> None:
        if self.fault == "timeout_after" or not self._due(model):
            return
        self.injected += 1
        raise _error(self.fault, model.name)

    def _after(self, model: Any, http_response: Any, parsed: Any, **_: Any) -> None:
        if self.fault != "timeout_after" or not self._due(model):
            return
        self.injected += 1
        raise ReadTimeoutError(endpoint_url=f"https://{model.service_model.endpoint_prefix}.local")


def _error(fault: str, operation: str) -> ClientError:
    if operation == "TransactWriteItems" and fault in ("throttle", "conflict"):
        reason = "ThrottlingError" if fault == "throttle" else "TransactionConflict"
        return ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "injected"},
                "CancellationReasons": [{"Code": reason}],
            },
            operation,
        )
    code = {
        "throttle": "ThrottlingException",
        "conflict": "TransactionConflictException",
        "error500": "InternalServerError",
    }[fault]
    status = 500 if fault == "error500" else 400
    return ClientError(
        {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


@dataclass
class Outcome:
    counted: int
    expected: int
    delivered: set[tuple[str, str, str]]  # (incident, step, recipient) claimed and sent (or sending)
    sends: Counter[str]  # messages the providers accepted, per recipient
    metrics: Counter[str]  # emitted metric names
    incidents: list[str]
    summaries: int
    errors: int  # handler invocations that raised


def run_scenario(workdir: Path, faults: Faults) -> Outcome:
    """One crisis through the real handlers (see the module doc). Needs the ``aws`` fixture's moto account and
    environment."""
    from functions.alert_actions import app as actions_app
    from functions.ingest_push import app as push_app
    from groundswell import runtime
    from groundswell.domain.listening import ingest
    from groundswell.domain.push import SIGNATURE_HEADER, sign
    from groundswell.domain.records import parse_line
    from infra.brand_files import parse_brands
    from infra.lambda_runtime import invoke_once
    from infra.scenario import BrandScenario, generate, write_jsonl
    from infra.simulation import Pipeline
    from infra.template_resources import load_template  # noqa: F401 (the environment is the fixture's)

    session = boto3.Session(region_name="us-east-1")
    resources = _resources()
    scenario = BrandScenario(
        "acme-air",
        "Acme Air",
        per_bucket=5.0,
        crisis_start_hour=CRISIS_HOUR,
        crisis_hours=1.5,
        crisis_multiplier=10.0,
        crisis_ramp=0.2,
    )
    records = generate(scenario, SCENARIO_START, HISTORY_HOURS + 3)
    records = [r for r in records if _time(r) < SCENARIO_START + timedelta(hours=HISTORY_HOURS, minutes=5 * STEPS)]
    history_end = SCENARIO_START + timedelta(hours=HISTORY_HOURS)
    history = [r for r in records if str(r["created_at"]) < history_end.isoformat()]
    later = records[len(history) :]
    polled = [r for i, r in enumerate(later) if i % 5]  # most through the poller, every fifth pushed
    pushed = [r for i, r in enumerate(later) if i % 5 == 0]
    path = write_jsonl(polled, workdir / "acme.jsonl")
    brand = parse_brands(
        {
            "name": "acme-air",
            "display_name": "Acme Air",
            "timezone": "America/New_York",
            "terms": {"keywords": ["Acme Air"]},
            "sources": [{"type": "replay", "uri": str(path)}],
            "recipients": RECIPIENTS,
        }
    )[0]
    faults.install()  # before any client exists: session events reach only clients created after them
    store = runtime.store()
    store.brands.put(brand)
    # history: stored as the poller would have, then judged in one catch-up cycle (no faults yet)
    problems: list[Any] = []
    mentions = [
        m
        for r in history
        if (m := parse_line(json.dumps(r), brand="acme-air", default_source="replay", problems=problems, where="h"))
        is not None
    ]
    ingest(mentions, problems, scorer=runtime.scorer(), repository=store, source="replay", may_overlap=False)
    runtime.detect(history_end)
    metrics_out = io.StringIO()
    push_key = runtime.push_key()  # the sender's key: the harness's own read, never faulted
    faults.armed = True
    errors = 0
    try:
        log_file = open(workdir / "lambda.log", "w", encoding="utf-8")  # noqa: SIM115 (closed with the pipeline)
        with log_file as log, Pipeline(resources, session, log, redeliver_every=0) as pipeline:
            acked = False
            first_sms_at: datetime | None = None
            for tick in range(1, STEPS + 3):  # two more steps: retries and catch-up settle
                now = history_end + timedelta(minutes=5 * tick)
                with contextlib.redirect_stdout(metrics_out):
                    for record in [r for r in pushed if now - timedelta(minutes=5) <= _time(r) < now]:
                        body = json.dumps({"brand": "acme-air", "mentions": [record]}).encode()
                        event = {
                            "requestContext": {"http": {"method": "POST"}},
                            "body": body.decode(),
                            "headers": {SIGNATURE_HEADER: sign(push_key, body, int(time.time()))},
                        }
                        for _ in range(3):  # a sender retries a 5xx (or a timeout)
                            reply = invoke_once(push_app.handler, event, "ingest_push")
                            if reply is not None and reply["statusCode"] < 500:
                                break
                            errors += 1
                with contextlib.redirect_stdout(metrics_out):
                    pipeline.step(now)
                if first_sms_at is None and _sms_sent(ON_CALL):
                    first_sms_at = now
                if not acked and first_sms_at and now >= first_sms_at + timedelta(minutes=30):
                    sms = json.dumps({"originationNumber": ON_CALL, "messageBody": "ACK"})
                    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": sms}}]}
                    with contextlib.redirect_stdout(metrics_out):
                        for _ in range(3):  # SNS retries a failed Lambda delivery
                            if invoke_once(actions_app.handler, event, "alert_actions") is not None:
                                break
                            errors += 1
                    acked = True
        log_text = (workdir / "lambda.log").read_text()
        errors += log_text.count('"message": "invocation failed"')
    finally:
        faults.uninstall()
    start, end = SCENARIO_START, history_end + timedelta(hours=4)
    counted = sum(b.total for b in store.mentions.buckets("acme-air", start, end))
    metrics = Counter(_metric_names(metrics_out.getvalue() + log_text))
    delivered = set()
    for incident in store.incidents.history("acme-air"):
        incident_id = json.loads(incident)["id"]
        for step, recipient in _deliveries(store, incident_id):
            delivered.add((incident_id, step, recipient))
    return Outcome(
        counted=counted,
        expected=len({str(r["id"]) for r in records}),
        delivered=delivered,
        sends=_provider_sends(),
        metrics=metrics,
        incidents=[json.loads(i)["id"] for i in store.incidents.history("acme-air")],
        summaries=sum(1 for phone, _ in _sms() if phone == CEO),
        errors=errors,
    )


ALARMED = frozenset(
    {"SourceErrors", "NotificationsFailed", "UnreadableItems", "SilentSources", "DetectorCyclesSkipped"}
)


PROVIDER_SENDS = frozenset({"SendEmail", "Publish", "SendTextMessage"})


def at_least_once(faults: Faults | None) -> bool:
    """A provider that took a message and then timed out: SES, SNS and End User Messaging take no idempotency
    key, so the notifier cannot know; it retries (a second copy beats silence) and counts NotificationsFailed."""
    return (
        faults is not None
        and faults.fault == "timeout_after"
        and faults.target is not None
        and (faults.target.operation in PROVIDER_SENDS)
    )


def problems(clean: Outcome, faulted: Outcome, faults: Faults | None = None) -> list[str]:
    """What a single fault broke, against the clean run: a miscount, a message that did not reach someone due
    it (unless an alarmed metric says so), a message sent twice (unless the provider's answer was lost, see
    :func:`at_least_once`, and an alarmed metric says so), a new incident."""
    found = []
    alarmed = bool(ALARMED & set(faulted.metrics))
    if faulted.counted != faulted.expected:
        found.append(f"counted {faulted.counted} of {faulted.expected} mentions")
    missing = clean.delivered - faulted.delivered
    if missing and not (ALARMED & set(faulted.metrics)):
        found.append(f"not delivered and no alarm: {sorted(missing)}")
    for recipient in set(faulted.sends) | set(clean.sends):
        sends, expected = faulted.sends.get(recipient, 0), clean.sends.get(recipient, 0)
        twice = sends > expected and not (at_least_once(faults) and alarmed and sends == expected + 1)
        if twice or (sends < expected and not alarmed):
            found.append(f"{recipient} got {sends} messages (clean run: {expected})")
    if set(faulted.incidents) != set(clean.incidents):
        found.append(f"incidents {faulted.incidents} (clean run: {clean.incidents})")
    return found


def run_in_fresh_account(workdir: Path, faults: Faults) -> Outcome:
    """:func:`run_scenario` in a new in-process moto account built from template.yaml, with fresh caches."""
    from moto import mock_aws

    from groundswell import runtime
    from groundswell.adapters.aws import reset_clients
    from groundswell.config import settings
    from infra.moto_patches import patch_moto_transactions
    from infra.template_resources import provision

    patch_moto_transactions()
    saved = dict(os.environ)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            resources = provision(boto3.Session(region_name="us-east-1"), prefix="faults")
            os.environ.update(resources.environment())
            settings.cache_clear()
            reset_clients()
            for cached in (runtime.store, runtime.scorer, runtime.source, runtime.notifier):
                cached.cache_clear()
            return run_scenario(workdir, faults)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings.cache_clear()
        reset_clients()


def applicable(site: Site) -> tuple[str, ...]:
    """The faults that can happen at a site: conflicts only on DynamoDB transactions."""
    return FAULTS if site.operation == "TransactWriteItems" else tuple(f for f in FAULTS if f != "conflict")


def _time(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))


def _resources() -> Any:
    from infra.template_resources import Provisioned

    env = os.environ
    table = env["TABLE_NAME"]
    queues = {
        "PollQueue": env["POLL_QUEUE_URL"],
        "BackfillQueue": env["BACKFILL_QUEUE_URL"],
        "NotifyQueue": env["NOTIFY_QUEUE_URL"],
    }
    return Provisioned(tables={"Table": table}, queues=queues)


def _sms() -> list[tuple[str, str]]:
    from moto.backends import get_backend

    return [(m[0], m[1]) for m in get_backend("sns")["123456789012"]["us-east-1"].sms_messages.values()]


def _sms_sent(phone: str) -> bool:
    return any(p == phone for p, _ in _sms())


def _provider_sends() -> Counter[str]:
    from moto.backends import get_backend

    sends: Counter[str] = Counter(phone for phone, _ in _sms())
    for message in get_backend("ses")["123456789012"]["us-east-1"].sent_messages:
        destinations = getattr(message, "destinations", None) or []
        if isinstance(destinations, dict):
            destinations = destinations.get("ToAddresses", [])
        for address in set(destinations):  # moto lists an address once per header it is in
            sends[str(address)] += 1
    return sends


def _deliveries(store: Any, incident_id: str) -> list[tuple[str, str]]:
    items = store.table.query(f"DELIVERY#{incident_id}")
    out = []
    for item in items:
        status = item.get("status", {}).get("S")
        if status in ("sent", "sending"):
            step, _, recipient = item["sk"]["S"].partition("#")
            out.append((step, recipient))
    return out


def _metric_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            document = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            names += [m["Name"] for m in directive.get("Metrics", [])]
    return names
