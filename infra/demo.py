"""``groundswell demo``: the listening pipeline end to end on the embedded stack and a simulated clock.

Three generated brands are replayed for ``hours`` simulated hours. Every 5 simulated minutes the real
dispatcher handler fans out poll requests to SQS and the real poller handler consumes them (some batches
delivered twice, as SQS may). The demo checks that every generated mention was counted exactly once and
writes the 5-minute counts and a timeline to the output folder.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from infra.scenario import DEMO_BRANDS, demo_start, generate, write_jsonl
from infra.simulation import Inbox, Pipeline

BARS = " ▁▂▃▄▅▆▇█"


def run_demo(output: Path, hours: int = 48) -> int:
    from infra.brand_files import parse_brands
    from infra.local_stack import local_stack

    output.mkdir(parents=True, exist_ok=True)
    start = demo_start()
    expected: dict[str, int] = {}
    configs = []
    for scenario in DEMO_BRANDS:
        records = generate(scenario, start, hours)
        expected[scenario.name] = len({r["id"] for r in records})
        path = write_jsonl(records, output / "replay" / f"{scenario.name}.jsonl")
        configs.append(
            {
                "name": scenario.name,
                "display_name": scenario.label,
                "timezone": "America/New_York",
                "terms": {"keywords": [scenario.label]},
                "sources": [{"type": "replay", "uri": str(path.resolve())}],
                "recipients": DEMO_RECIPIENTS,
            }
        )
    log_path = output / "lambda.log"
    print(
        f"Groundswell demo: {len(configs)} brands, {hours} simulated hours, embedded AWS (moto on 127.0.0.1)",
        flush=True,
    )
    began = time.perf_counter()
    with local_stack() as (resources, session), log_path.open("w", encoding="utf-8") as log:
        from groundswell.runtime import notifier, store

        received = Inbox(output / "alerts")
        notifier().on_sent = received.add
        repo = store()
        repo.brands.put_many(parse_brands(configs, "demo"))
        timeline = []
        ticks = hours * 12
        acknowledged: list[tuple[datetime, str]] = []
        with Pipeline(resources, session, log) as pipeline:
            for tick in range(1, ticks + 1):
                timeline.append(pipeline.step(start + timedelta(minutes=5 * tick)))
                progress(tick, ticks, timeline[-1].now, f"polls {tick * len(configs):>5}")
                with contextlib.redirect_stdout(log):  # the handler's metrics go to the log, as the pipeline's do
                    acknowledged += _on_call_replies(received, timeline[-1].now, acknowledged)
        end = start + timedelta(hours=hours)
        ok = _report(repo, configs, expected, start, end, output, timeline)
        _print_alerts(received, start, acknowledged)
        _write_timeline(output / "timeline.csv", repo, configs, received, acknowledged)
        _write_incident_page(output / "incident-page.html", received, end)
    elapsed = time.perf_counter() - began
    print(
        f"done in {elapsed:.1f} s; results in {output}/: buckets.csv, incidents.jsonl, timeline.csv (incidents, "
        "alerts and replies in the brand's time), ticks.csv, alerts/ (every SMS, email .eml/.html and chart "
        "received), incident-page.html (what the on-call's link showed at the end), lambda.log"
    )
    return 0 if ok else 1


def _write_timeline(path: Path, repo: Any, configs: list[dict[str, Any]], inbox: Inbox, replies: Any) -> None:
    """The story as a PR lead would tell it, in clock time: each incident's opening and end, every alert sent and
    every reply, in the brand's time zone, in order."""
    zones = {c["name"]: ZoneInfo(c["timezone"]) for c in configs}
    rows: list[tuple[datetime, str, str, str, str, str, str]] = []
    brand_of: dict[str, str] = {}
    for config in configs:
        for raw in repo.incidents.history(config["name"]):
            incident = json.loads(raw)
            brand_of[incident["id"]] = config["name"]
            opened = datetime.fromisoformat(incident["opened_at"])
            drivers = ", ".join(incident.get("drivers", [])) or "-"
            detail = f"highest severity {incident['severity']}; about {drivers}"
            rows.append((opened, config["name"], "incident opened", incident["id"], "", "", detail))
            if incident.get("resolved_at"):
                at = datetime.fromisoformat(incident["resolved_at"])
                rows.append((at, config["name"], "incident resolved", incident["id"], "", "", "back to normal"))
    for message in inbox.messages:
        about = [incident for incident, _ in message.about]
        brand = next((brand_of[i] for i in about if i in brand_of), "")  # a daily summary covers every brand
        first_line = message.text.splitlines()[0] if message.text else ""
        event = "daily summary" if message.kind == "summary" else f"alert: {message.kind}"
        rows.append((message.sent_at, brand, event, " ".join(about), message.channel, message.recipient, first_line))
    for at, incident in replies:
        rows.append((at, brand_of.get(incident, ""), "acknowledged by SMS reply", incident, "sms", "on-call", "ACK"))
    rows.sort(key=lambda row: row[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["local_time", "brand", "event", "incident", "channel", "recipient", "detail"])
        for at, brand, event, incident, channel, recipient, detail in rows:
            local = at.astimezone(zones.get(brand, zones[configs[0]["name"]]))
            writer.writerow([f"{local:%Y-%m-%d %H:%M %Z}", brand, event, incident, channel, recipient, detail])


def _write_incident_page(path: Path, inbox: Inbox, now: datetime) -> None:
    """The incident page behind the first SMS's link, as it stands at ``now`` (opening it acts on nothing)."""
    from groundswell.runtime import notifier
    from groundswell.usecases.actions import Outcome

    for message in inbox.messages:
        found = re.search(r"/a/([0-9A-Za-z]{20})", message.text) if message.channel == "sms" else None
        if found:
            outcome, page = notifier().page(found.group(1), now)
            if outcome is Outcome.DONE:
                path.write_text(page, encoding="utf-8")
            return


def _hour(moment: datetime, start: datetime) -> str:
    return f"{(moment - start).total_seconds() / 3600:.1f}"


def progress(tick: int, ticks: int, now: datetime, detail: str) -> None:
    """A progress bar on a terminal; a line every 6 simulated hours otherwise."""
    line = f"  [{'#' * int(30 * tick / ticks):<30}] {now:%a %d %b %H:%M} UTC  {detail}"
    if sys.stderr.isatty():
        print(f"\r{line}", end="\n" if tick == ticks else "", file=sys.stderr, flush=True)
    elif tick % 72 == 0 or tick == ticks:
        print(line, file=sys.stderr, flush=True)


def _report(repo, configs, expected, start, end, output: Path, timeline) -> bool:  # type: ignore[no-untyped-def]
    ok = True
    with (output / "buckets.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["brand", "bucket_start", "total", "negative", "neutral", "positive", "negative_authors", "engagement"]
        )
        print(f"\n{'brand':<14}{'stored':>8}{'expected':>9}{'negative':>9}   negative mentions per hour")
        for config in configs:
            buckets = repo.mentions.buckets(config["name"], start, end)
            for b in buckets:
                writer.writerow(
                    [
                        b.brand,
                        b.start.isoformat(),
                        b.total,
                        b.negative,
                        b.neutral,
                        b.positive,
                        b.negative_authors,
                        b.engagement,
                    ]
                )
            hourly: dict[int, int] = {}
            for b in buckets:
                slot = int((b.start - start).total_seconds() // 3600)
                hourly[slot] = hourly.get(slot, 0) + b.negative
            series = [hourly.get(h, 0) for h in range(int((end - start).total_seconds() // 3600))]
            top = max(series) or 1
            spark = "".join(BARS[round(v / top * (len(BARS) - 1))] for v in series)
            stored = sum(b.total for b in buckets)
            negative = sum(b.negative for b in buckets)
            mark = "" if stored == expected[config["name"]] else "  <-- MISMATCH"
            ok &= not mark
            print(f"{config['name']:<14}{stored:>8}{expected[config['name']]:>9}{negative:>9}   {spark}{mark}")
    with (output / "ticks.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tick_utc", "polls_dispatched", "poller_invocations", "failed_messages"])
        writer.writerows([(s.now.isoformat(), s.dispatched, s.poll_invocations, s.failed_messages) for s in timeline])
    print(
        "\nEvery generated mention counted exactly once (some SQS batches were delivered twice)."
        if ok
        else "\nCOUNT MISMATCH: see above."
    )
    print("\nIncidents (detector: seasonal negative-binomial baseline, several time scales, crowd check):")
    found = 0
    with (output / "incidents.jsonl").open("w", encoding="utf-8") as handle:
        for config in configs:
            for raw in repo.incidents.history(config["name"]):
                incident = json.loads(raw)
                found += 1
                handle.write(raw + "\n")
                opened = datetime.fromisoformat(incident["opened_at"])
                resolved = incident["resolved_at"] and datetime.fromisoformat(incident["resolved_at"])
                print(
                    f"  {incident['id']:<28} severity {incident['severity']}  opened hour {_hour(opened, start)}"
                    f"  peak {incident['observed']:.0f} negatives vs {incident['expected']:.1f} expected in "
                    f"{incident['window_minutes']} min  "
                    + (f"resolved hour {_hour(resolved, start)}" if resolved else "still open")
                )
                print(f"  {'':<28} about: {', '.join(incident['drivers']) or '(no distinct terms)'}")
    if not found:
        print("  none")
    print(
        "Expected: one incident for acme-air's swell of complaints (from hour 38), none for brightbank's "
        "one-person flood (hour 33) or nimbus-phone's ordinary chatter."
    )
    return ok


ON_CALL_PHONE = "+12025550143"
DEMO_RECIPIENTS = [
    {
        "name": "Riley (PR on-call)",
        "channel": "sms",
        "address": ON_CALL_PHONE,
        "role": "pr_oncall",
        "timezone": "America/New_York",
        "fallback_email": "riley@example.com",
    },
    {
        "name": "PR desk",
        "channel": "email",
        "address": "pr-desk@example.com",
        "role": "pr_oncall",
        "timezone": "America/New_York",
    },
    {
        "name": "Sam (comms lead)",
        "channel": "email",
        "address": "sam@example.com",
        "role": "comms_lead",
        "timezone": "America/New_York",
        "quiet_hours": [22, 7],
    },
    {
        "name": "Alex (CEO)",
        "channel": "sms",
        "address": "+12025550178",
        "role": "executive",
        "timezone": "America/New_York",
        "summary_at": "08:00",
    },
]


def _on_call_replies(inbox: Inbox, now: datetime, done: list[tuple[datetime, str]]) -> list[tuple[datetime, str]]:
    """The on-call replies ACK by SMS 45 minutes after an incident's first text (through the real
    acknowledgement handler, as the inbound-SMS topic would deliver it)."""
    from functions.alert_actions import app as actions_app
    from infra.lambda_runtime import LambdaContext

    replied = {incident for _, incident in done}
    for message in inbox.messages:
        for incident, kind in message.about:
            due = message.channel == "sms" and kind == "open" and now >= message.sent_at + timedelta(minutes=45)
            if due and incident not in replied:
                sms = json.dumps({"originationNumber": ON_CALL_PHONE, "messageBody": "ACK"})
                actions_app.handler(
                    {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": sms}}]}, LambdaContext("alert_actions")
                )
                replied.add(incident)
                return [(now, incident)]
    return []


def _print_alerts(inbox: Inbox, start: datetime, acknowledged: list[tuple[datetime, str]]) -> None:
    print("\nAlerts sent and replies (every message is written to alerts/):")
    lines = [
        (moment, f"  hour {_hour(moment, start)}  the on-call replied ACK to the SMS about {incident}")
        for moment, incident in acknowledged
    ]
    for message in inbox.messages:
        first = message.text.splitlines()[0]
        text = first if message.channel == "sms" else first[:70]
        lines.append(
            (
                message.sent_at,
                f"  hour {_hour(message.sent_at, start)}  {message.channel:<5} "
                f"{message.recipient:<22} {message.kind:<9} {text}",
            )
        )
    for _, line in sorted(lines, key=lambda pair: pair[0]):
        print(line)
    if not lines:
        print("  none")
