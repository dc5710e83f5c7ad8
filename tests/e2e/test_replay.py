"""``groundswell replay`` end to end on the embedded stack: output lines, a crisis that alerts, errors."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.replay import ReplayError, alert_lines, incident_line, run_replay
from infra.scenario import BrandScenario, demo_start, generate, write_jsonl

pytestmark = pytest.mark.e2e


def test_replay_of_a_swell_writes_the_incident_and_its_alerts(tmp_path: Path) -> None:
    scenario = BrandScenario(
        "swell", "Swell Co", per_bucket=8.0, crisis_start_hour=14, crisis_hours=2, crisis_multiplier=8.0
    )
    source = write_jsonl(generate(scenario, demo_start(), 16), tmp_path / "swell.jsonl")
    output = tmp_path / "out.jsonl"
    messages = tmp_path / "messages"
    messages.mkdir()
    (messages / "notes.txt").write_text("mine")  # a user's file in the folder: never deleted
    (messages / "001-20261120T1405-sms-open.txt").write_text("an earlier run's message")
    assert run_replay(source, "Swell Co", output, messages=messages) == 0  # a display name, as a user types it
    assert (messages / "notes.txt").read_text() == "mine"
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    incidents = [r for r in rows if r["type"] == "incident"]
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["brand"] == "swell-co"
    assert set(incident) >= {
        "incident_id",
        "brand",
        "opened_at",
        "peak_at",
        "resolved_at",
        "severity",
        "observed",
        "expected",
    }
    opened = datetime.fromisoformat(incident["opened_at"].replace("Z", "+00:00"))
    assert 14 <= (opened - demo_start()).total_seconds() / 3600 <= 15  # opened on the simulated clock, early
    alerts = [r for r in rows if r["type"] == "alert"]
    assert {a["kind"] for a in alerts} >= {"open"} and all(a["incident_id"] == incident["incident_id"] for a in alerts)
    assert all(a["sent_at"].endswith("Z") and "*" in a["recipient"] for a in alerts)  # UTC, masked
    assert any(p.suffix == ".eml" for p in (tmp_path / "messages").iterdir())
    # every log line of the run: no full phone number, email address, link token or key
    log = output.with_suffix(".log").read_text()
    assert len(log.splitlines()) > 100
    assert not re.search(r"\+\d{8,15}", log), "a full phone number was logged"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", log.replace("***@", "")), "an email address was logged"
    tokens = {t for a in alerts for t in re.findall(r"/a/([A-Za-z0-9]{20,})", a["text"])}
    assert tokens and not any(token in log for token in tokens), "a link token was logged"
    assert not re.search(r'"(key|app_password|password|token)"\s*:\s*"[^*"]{8,}', log), "a secret was logged"


def test_replay_refuses_what_it_cannot_replay(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="no such file"):
        run_replay(tmp_path / "missing.jsonl", "x", tmp_path / "o.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('not json\n{"created_at": "2015-02-22T10:00:00"}\n', encoding="utf-8")  # no offset
    with pytest.raises(ReplayError, match="no line with a valid created_at"):
        run_replay(bad, "x", tmp_path / "o.jsonl")


def test_output_lines_follow_the_documented_shape() -> None:
    incident = {
        "id": "b:1",
        "brand": "b",
        "opened_at": "2015-02-22T14:05:00+00:00",
        "peak_at": "2015-02-22T14:30:00+00:00",
        "resolved_at": None,
        "severity": 3,
        "observed": 40.0,
        "expected": 4.123456,
        "window_minutes": 30,
    }
    line = incident_line(incident)
    assert line["opened_at"] == "2015-02-22T14:05:00Z" and line["resolved_at"] is None and line["expected"] == 4.123
    assert line["kind"] == "crisis"  # incidents stored before attention notices existed are crises
    assert incident_line({**incident, "kind": "attention", "became": "a:1"})["became"] == "a:1"
    from groundswell.domain.alerting.lifecycle import AlertState, Verdict
    from tests.conftest import make_incident

    called = AlertState(
        incident=make_incident(),
        acked_by="Dana",
        verdict=Verdict(call="not a crisis", by="Dana", at=datetime(2015, 2, 22, 15, tzinfo=UTC)),
    )
    line = incident_line(incident, called)
    assert (line["acknowledged_by"], line["verdict"], line["verdict_by"]) == ("Dana", "not a crisis", "Dana")
    message = SimpleNamespace(
        channel="sms",
        recipient="+*********43",
        sent_at=datetime(2015, 2, 22, 14, 6, tzinfo=UTC),
        kind="grouped",
        text="t",
        about=(("b:1", "open"), ("c:2", "resolved")),
    )
    assert [(a["incident_id"], a["kind"]) for a in alert_lines(message)] == [("b:1", "open"), ("c:2", "resolved")]


def test_replay_survives_handlers_that_raise_as_lambda_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A detector cycle and a poller invocation that raise (a throttled call, say): Lambda retries or catches up,
    so the replay must too. Before, the replay crashed with the handler's exception."""
    from functions.poll_mentions import app as poll_app
    from groundswell import runtime

    failures = {"detect": 3, "poll": 2}
    detect, process = runtime.detect, poll_app.process_partial_response

    def flaky_detect(*args: object, **kwargs: object) -> object:
        if failures["detect"] > 0:
            failures["detect"] -= 1
            raise RuntimeError("simulated: throttled")
        return detect(*args, **kwargs)  # type: ignore[arg-type]

    def flaky_process(*args: object, **kwargs: object) -> object:
        if failures["poll"] > 0:
            failures["poll"] -= 1
            raise RuntimeError("simulated: timed out")
        return process(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime, "detect", flaky_detect)
    monkeypatch.setattr(poll_app, "process_partial_response", flaky_process)
    scenario = BrandScenario(
        "swell", "Swell Co", per_bucket=8.0, crisis_start_hour=14, crisis_hours=2, crisis_multiplier=8.0
    )
    source = write_jsonl(generate(scenario, demo_start(), 16), tmp_path / "swell.jsonl")
    output = tmp_path / "out.jsonl"
    assert run_replay(source, "swell", output) == 0
    assert failures == {"detect": 0, "poll": 0}
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert len([r for r in rows if r["type"] == "incident"]) == 1  # nothing lost: the crisis still alerts
    log = output.with_suffix(".log").read_text()
    assert log.count('"message": "invocation failed"') == 5


def test_a_small_night_burst_pages_nobody_in_quiet_hours_and_every_message_tells_the_truth(tmp_path: Path) -> None:
    """A dozen complaints at 01:10 on a quiet brand. Before, it opened as SEV4 ("critical": 80x usual) and went
    through quiet hours: the on-call was texted at 01:15 and every hour after, each text repeating the burst's
    numbers long after it was over."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    import yaml

    start = demo_start()
    mentions = generate(BrandScenario("night", "Night Co", per_bucket=1.0), start, 36)
    burst_at = start + timedelta(hours=30, minutes=10)  # 01:10 in New York (UTC-5), the second night
    burst = [
        {
            "id": f"burst-{i}",
            "text": "night co charged me twice, refund now",
            "author": f"angry{i}",
            "created_at": (burst_at + timedelta(minutes=i)).isoformat(),
            "sentiment": "negative",
        }
        for i in range(14)
    ]
    from groundswell.runtime import make_scorer

    scores = make_scorer("default").score([str(m["text"]) for m in mentions])  # labelled, so counts can be checked
    labelled = [{**m, "sentiment": label.value} for m, (label, _) in zip(mentions, scores, strict=True)]
    merged = sorted([*labelled, *burst], key=lambda m: str(m["created_at"]))
    source = write_jsonl(merged, tmp_path / "night.jsonl")
    quiet = {"timezone": "America/New_York", "quiet_hours": [22, 7]}
    config = tmp_path / "brands.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "night-co",
                "display_name": "Night Co",
                "terms": {"keywords": ["night co"]},
                "sources": [{"type": "hackernews"}],
                "recipients": [
                    {"name": "On-call", "channel": "sms", "address": "+14155550100", "role": "pr_oncall", **quiet},
                    {"name": "Desk", "channel": "email", "address": "desk@example.com", "role": "pr_oncall", **quiet},
                ],
            }
        )
    )
    output = tmp_path / "out.jsonl"
    assert run_replay(source, "night-co", output, config=config) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    incidents = [r for r in rows if r["type"] == "incident"]
    assert incidents, "the burst opened no incident"
    assert all(i["severity"] < 4 for i in incidents)  # a handful of posts is not critical
    new_york = ZoneInfo("America/New_York")
    alerts = [r for r in rows if r["type"] == "alert"]
    for alert in alerts:
        sent = datetime.fromisoformat(alert["sent_at"].replace("Z", "+00:00")).astimezone(new_york)
        assert 7 <= sent.hour < 22, f"{alert['channel']} at {sent:%H:%M} in quiet hours: {alert['text'][:80]}"
    negatives = sorted(
        datetime.fromisoformat(str(m["created_at"]).replace("Z", "+00:00"))
        for m in merged
        if m.get("sentiment") == "negative"
    )
    checked = 0
    for alert in alerts:  # "now N/2h" and "N in the last 2h to HH:MM": the counts of those two hours
        for count, hh, mm in re.findall(r"(\d+) in the last 2h to (\d\d):(\d\d)", alert["text"]):
            sent = datetime.fromisoformat(alert["sent_at"].replace("Z", "+00:00")).astimezone(new_york)
            end = sent.replace(hour=int(hh), minute=int(mm), second=0, microsecond=0).astimezone(UTC)
            actual = sum(1 for t in negatives if end - timedelta(hours=2) <= t < end)
            assert int(count) == actual, f"{alert['kind']} says {count} in the 2h to {hh}:{mm}, there were {actual}"
            checked += 1
    assert checked, "no message said how things stand now"
