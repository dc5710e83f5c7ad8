"""Single faults at every AWS call site of a crisis: nothing counted twice or lost, every message due reaches its
recipient exactly once (or an alarmed metric says it could not), and the simulation survives as Lambda would.

A clean run discovers the call sites; then each site is run once with one fault at its first call, the faults
taken in turn (throttling, a transaction conflict, a 500, a timeout after the call took effect). The full matrix
(every site with every fault) is ``python -m tests.faults.matrix``; docs/faults.md has its table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.faults.harness import Faults, Outcome, Site, applicable, problems, run_in_fresh_account

pytestmark = pytest.mark.integration
_CLEAN: dict[str, tuple[Outcome, list[Site], Path]] = {}


def clean_run(tmp: Path) -> tuple[Outcome, list[Site]]:
    """The clean run, once per session (its folder keeps its log)."""
    if "run" not in _CLEAN:
        faults = Faults()
        outcome = run_in_fresh_account(tmp / "clean", faults)
        _CLEAN["run"] = (outcome, sorted(faults.calls, key=str), tmp / "clean")
    outcome, sites, _ = _CLEAN["run"]
    return outcome, sites


def test_the_clean_crisis_reaches_everyone_and_counts_everything(tmp_path_factory: pytest.TempPathFactory) -> None:
    outcome, sites = clean_run(tmp_path_factory.mktemp("faults"))
    assert outcome.counted == outcome.expected > 1000
    assert len(outcome.incidents) == 1 and outcome.errors == 0
    assert {"+12025550143", "desk@example.com", "lead@example.com", "+12025550178"} <= set(outcome.sends)
    assert outcome.summaries == 1 and outcome.metrics["IncidentsAcknowledged"] == 1
    services = {site.service for site in sites}
    assert {"dynamodb", "sqs", "sns", "email", "secretsmanager"} <= services and len(sites) >= 30
    # every log line of the crisis (every function, every message sent): no phone number, address or secret
    log = (_CLEAN["run"][2] / "lambda.log").read_text()
    assert len(log.splitlines()) > 100 and "sms sent" in log and "email sent" in log
    for secret in ("+12025550143", "+12025550178", "desk@example.com", "lead@example.com", "oncall@example.com"):
        assert secret not in log
    assert not re.search(r'"(key|app_password|password|token)"\s*:\s*"[^*"]{8,}', log)


def alarmed_metrics() -> set[str]:
    """The metric names the template's alarms watch (Metrics Insights queries over our namespace)."""
    from infra.template_resources import load_template

    watched = set()
    for resource in load_template()["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            for metric in resource["Properties"].get("Metrics", []):
                watched |= set(re.findall(r"\(([A-Za-z]+)\)\s+FROM Groundswell", str(metric.get("Expression", ""))))
    return watched


def test_every_call_site_survives_a_single_fault(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("faults")
    clean, sites = clean_run(tmp)
    broken = []
    emitted = set(clean.metrics)
    for index, site in enumerate(sites):
        choices = applicable(site)
        fault = choices[index % len(choices)]
        faults = Faults(target=site, fault=fault)
        try:
            faulted = run_in_fresh_account(tmp / f"site-{index}", faults)
            found = problems(clean, faulted, faults)
            emitted |= set(faulted.metrics)
        except Exception as exc:  # the simulation itself must survive, as Lambda does
            found = [f"the run crashed: {type(exc).__name__}: {exc}"]
        assert faults.injected == 1, f"{site}: the fault was not injected"
        if found:
            broken.append(f"{site} / {fault}: {'; '.join(found)}")
    assert broken == []
    # every alarm can fire: the metric it watches was emitted, as the functions emit it (EMF on stdout), by the
    # clean crisis or one of its faulted runs; the few the crisis cannot reach are emitted by the tests named here
    elsewhere = {  # each of these tests asserts the metric in the EMF output
        "BlueskyLoginRefused": "tests/unit/test_sources.py (a refused Bluesky password)",
        "UnreadableItems": "tests/integration/test_notifier.py (an unreadable alert state)",
        "SourceErrors": "tests/integration/test_listening.py (a source that fails a poll)",
        "DetectorCyclesSkipped": "tests/integration/test_store.py (a cycle that finds the lease held)",
    }
    assert alarmed_metrics() - emitted - set(elsewhere) == set(), "alarms on metrics no run emitted"


@pytest.mark.parametrize(
    ("operation", "where", "fault"),
    [
        # the claim took effect, its answer was lost: before, the message stayed "sending" or went out twice
        ("TransactWriteItems", "adapters/dynamo/deliveries.py:claim", "timeout_after"),
        # the provider took the message, recording it failed: before, it was marked failed and sent again
        ("UpdateItem", "adapters/dynamo/deliveries.py:finish", "timeout_after"),
        # before, a failed lease release failed the cycle and held the lease: no cycle ran, no incident opened
        ("PutItem", "adapters/dynamo/detector.py:release_lease", "throttle"),
    ],
)
def test_the_faults_that_lost_or_doubled_a_message(
    tmp_path_factory: pytest.TempPathFactory, operation: str, where: str, fault: str
) -> None:
    tmp = tmp_path_factory.mktemp("faults")
    clean, sites = clean_run(tmp)
    [site] = [s for s in sites if s.operation == operation and s.where == where]
    faults = Faults(target=site, fault=fault)
    assert problems(clean, run_in_fresh_account(tmp / "run", faults), faults) == []
    assert faults.injected == 1
