"""``groundswell replay``: a JSON Lines file of mentions through the whole pipeline on a simulated clock.

The file (docs/mention-format.md) becomes one brand's replay source on the embedded stack; the real handlers
(poller, detector, notifier) run every 5 simulated minutes from the first mention to a few hours after the last.
Incidents and the alerts sent are written as JSON Lines, with times in UTC on the simulated clock.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.simulation import Inbox, Pipeline

if TYPE_CHECKING:
    from groundswell.domain.alerting.lifecycle import AlertState

STEP = timedelta(minutes=5)
TAIL = timedelta(hours=3)  # after the last mention: long enough for an open incident to resolve
DEFAULT_RECIPIENTS = [
    {
        "name": "PR on-call",
        "channel": "sms",
        "address": "+12025550143",
        "role": "pr_oncall",
        "fallback_email": "oncall@example.com",
    },
    {"name": "PR desk", "channel": "email", "address": "pr-desk@example.com", "role": "pr_oncall"},
]


class ReplayError(ValueError):
    """The input or the options are wrong; the message says what to do."""


def time_span(path: Path) -> tuple[datetime, datetime, int]:
    """(first, last) ``created_at`` of the file's readable lines, and how many there are."""
    first = last = None
    lines = 0
    for created in _created_times(path):
        first = created if first is None or created < first else first
        last = created if last is None or created > last else last
        lines += 1
    if first is None or last is None:
        raise ReplayError(f"{path}: no line with a valid created_at: see docs/mention-format.md")
    return first, last, lines


def _created_times(path: Path) -> Iterator[datetime]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                created = datetime.fromisoformat(str(json.loads(line)["created_at"]).replace("Z", "+00:00"))
            except (ValueError, KeyError, TypeError):
                continue  # the poller reports bad lines; here they only do not set the clock
            if created.tzinfo is not None:
                yield created.astimezone(UTC)


def brand_config(name: str, source: Path, sensitivity: str, config: Path | None) -> dict[str, Any]:
    """The brand to replay: from ``config`` (its recipients, time zone, settings) if given, else defaults; its
    sources replaced by the replay file. ``name`` is the brand's name or its display name ("US Airways")."""
    from groundswell.domain.models import brand_slug

    slug = brand_slug(name)
    if not slug:
        raise ReplayError(f"--brand {name!r} has no letters or digits: give the brand's name, e.g. us-airways")
    base: dict[str, Any] = {
        "name": slug,
        "display_name": name if name != slug else "",
        "terms": {"keywords": [name]},
        "recipients": DEFAULT_RECIPIENTS,
    }
    if config is not None:
        from infra.brand_files import BrandConfigError, load_brand_file

        try:
            brands = load_brand_file(config)
        except BrandConfigError as exc:
            raise ReplayError(str(exc)) from None
        found = [b for b in brands if slug in (b.name, brand_slug(b.label))]
        if not found:
            names = ", ".join(b.name for b in brands) or "none"
            raise ReplayError(f"brand {name!r} is not in {config} (it has: {names})")
        base = found[0].model_dump(mode="json")
    base["sources"] = [{"type": "replay", "uri": str(source.resolve())}]
    base["detection"] = {**base.get("detection", {}), "sensitivity": sensitivity}
    return base


def run_replay(
    input_path: Path,
    brand: str,
    output: Path,
    *,
    start: datetime | None = None,
    speed: float = 0.0,
    sensitivity: str = "balanced",
    config: Path | None = None,
    messages: Path | None = None,
) -> int:
    """Replays ``input_path`` as brand ``brand``; writes incidents and alerts to ``output`` (JSON Lines).
    ``speed``: simulated seconds per real second (0: as fast as possible). ``messages``: a folder for every SMS
    and email as received."""
    from infra.brand_files import parse_brands
    from infra.demo import progress
    from infra.local_stack import local_stack

    if not input_path.is_file():
        raise ReplayError(f"{input_path}: no such file")
    first, last, lines = time_span(input_path)
    clock = (start or first).astimezone(UTC)
    clock -= timedelta(seconds=clock.timestamp() % STEP.total_seconds())
    end = last + TAIL
    if clock >= end:
        raise ReplayError(f"--start {clock:%Y-%m-%dT%H:%MZ} is after the file's last mention ({last:%Y-%m-%dT%H:%MZ})")
    ticks = int((end - clock) / STEP) + 1
    brands = parse_brands([brand_config(brand, input_path, sensitivity, config)], str(config or "replay"))
    brand = brands[0].name
    output.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"replaying {lines} mentions of {brand} from {clock:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
        f"({ticks} steps of 5 minutes, sensitivity {sensitivity})",
        file=sys.stderr,
        flush=True,
    )
    began = time.perf_counter()
    log_path = output.with_suffix(".log")
    with local_stack() as (resources, session), log_path.open("w", encoding="utf-8") as log:
        from groundswell.runtime import notifier, store

        inbox = Inbox(messages)
        notifier().on_sent = inbox.add
        store().brands.put_many(brands)
        with Pipeline(resources, session, log, redeliver_every=0) as pipeline:
            for tick in range(1, ticks + 1):
                now = clock + STEP * tick
                pipeline.step(now)
                progress(tick, ticks, now, f"alerts {len(inbox.messages):>4}")
                if speed > 0:
                    time.sleep(STEP.total_seconds() / speed)
        incidents = [json.loads(raw) for raw in store().incidents.history(brand)]
        states = {i["id"]: alert_state(i["id"]) for i in incidents}
    rows = [incident_line(i, states[i["id"]]) for i in incidents] + [
        line for m in inbox.messages for line in alert_lines(m)
    ]
    rows.sort(key=lambda r: (r.get("opened_at") or r.get("sent_at"), r["type"]))
    with output.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"{len(incidents)} incident(s), {len(inbox.messages)} message(s) in {time.perf_counter() - began:.0f} s: "
        f"{output} (handler logs: {log_path})",
        file=sys.stderr,
    )
    return 0


def alert_state(incident_id: str) -> AlertState | None:
    from groundswell.runtime import store
    from groundswell.usecases.alert_states import AlertStates

    return AlertStates(store().deliveries).get(incident_id)


def incident_line(incident: dict[str, Any], state: AlertState | None = None) -> dict[str, Any]:
    """An incident as the detector left it, and what people said of it (acknowledged, resolved or not a crisis
    on its page)."""
    verdict = state.verdict if state else None
    return {
        "type": "incident",
        "incident_id": incident["id"],
        "brand": incident["brand"],
        "kind": incident.get("kind", "crisis"),  # or "attention": a notice that pages no one
        "became": incident.get("became"),  # an attention notice that turned into this crisis id
        "opened_at": _iso(incident["opened_at"]),
        "peak_at": _iso(incident["peak_at"]),
        "resolved_at": _iso(incident.get("resolved_at")),
        "severity": incident["severity"],
        "observed": incident["observed"],
        "expected": round(float(incident["expected"]), 3),
        "window_minutes": incident["window_minutes"],
        "pvalue": incident.get("pvalue"),
        "baseline_days": incident.get("baseline_days", 0.0),
        "drivers": list(incident.get("drivers", ())),
        "limited_history": incident.get("limited_history", False),
        "acknowledged_by": state.acked_by if state else None,
        "verdict": verdict.call if verdict else None,
        "verdict_by": verdict.by if verdict else None,
    }


def alert_lines(message: Any) -> list[dict[str, Any]]:
    """One line per incident a message was about (a grouped message covers several); summaries get their own
    ``summary`` lines."""
    common = {"channel": message.channel, "recipient": message.recipient, "sent_at": _iso(message.sent_at)}
    if not message.about:
        return [{"type": "summary", "incident_id": None, **common, "kind": "summary", "text": message.text}]
    return [
        {"type": "alert", "incident_id": incident_id, **common, "kind": kind, "text": message.text}
        for incident_id, kind in message.about
    ]


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
