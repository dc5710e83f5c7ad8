"""Per-brand detection settings: presets, minimum volume, planned events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from groundswell.domain.detection.cycle import BrandState, _p_open, run_cycle
from groundswell.domain.models import Bucket, DetectionSettings
from infra.memory import MemoryBuckets
from tests.conftest import make_brand

START = datetime(2026, 11, 2, tzinfo=UTC)


def swell_buckets(seed: int = 2) -> dict[datetime, Bucket]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(3 * 288):
        moment = START + timedelta(minutes=5 * i)
        total = int(rng.poisson(8))
        negative = int(rng.binomial(total, 0.25))
        if 2 * 288 + 150 <= i < 2 * 288 + 186:  # three hours at about 5x
            extra = int(rng.poisson(8))
            total, negative = total + extra, negative + extra
        out[moment] = Bucket(brand="b", start=moment, total=total, negative=negative, negative_authors=negative)
    return out


def incidents(config: DetectionSettings) -> list[str]:
    memory, state, opened = MemoryBuckets(swell_buckets()), BrandState(last_bucket=START - timedelta(minutes=5)), []
    for hour in range(1, 73):
        report = run_cycle({"b": state}, START + timedelta(hours=hour, minutes=5), memory, settings={"b": config})
        state = report.states["b"]
        opened += [t.incident.id for t in report.transitions if t.kind == "open"]
    return opened


def test_a_swell_opens_one_incident_and_a_high_minimum_volume_silences_it() -> None:
    assert len(incidents(DetectionSettings())) == 1
    assert incidents(DetectionSettings(min_negative=10_000)) == []


def test_presets_and_planned_events_set_the_threshold() -> None:
    launch = {"start": START, "end": START + timedelta(hours=2), "reason": "product launch"}
    config = DetectionSettings(sensitivity="more", planned_events=[launch])
    assert _p_open(config, START + timedelta(hours=3)) == 1e-4
    assert _p_open(config, START + timedelta(hours=1)) == pytest.approx(1e-6)  # 100x stricter during the launch
    assert (
        _p_open(DetectionSettings(), START) == 1e-6 and _p_open(DetectionSettings(sensitivity="fewer"), START) == 1e-8
    )


def test_planned_events_are_validated() -> None:
    with pytest.raises(ValidationError, match="end after it starts"):
        DetectionSettings(planned_events=[{"start": START, "end": START}])
    with pytest.raises(ValidationError, match="time zone offset"):
        DetectionSettings(planned_events=[{"start": "2026-12-01T09:00:00", "end": "2026-12-01T10:00:00"}])
    brand = make_brand(detection={"sensitivity": "fewer", "min_negative": 5})
    assert brand.detection.sensitivity == "fewer"
    with pytest.raises(ValidationError):
        make_brand(detection={"sensitivity": "paranoid"})


def level_shift_buckets(seed: int = 0) -> dict[datetime, Bucket]:
    """A busy brand (40 negatives per 5 minutes) whose level rises by half over day three, then stays."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(4 * 288):
        moment = START + timedelta(minutes=5 * i)
        mean = 40 * (1 + 0.5 * min(1.0, max(0, i - 2 * 288) / 288))
        negative = int(rng.negative_binomial(1 / 0.15, (1 / 0.15) / (1 / 0.15 + mean)))
        out[moment] = Bucket(brand="b", start=moment, total=2 * negative, negative=negative, negative_authors=negative)
    return out


def test_a_planned_event_keeps_a_campaigns_slow_rise_quiet() -> None:
    """The sustained-shift test (a CUSUM, capped) would pass even the planned threshold; it is left out."""

    def opened(config: DetectionSettings) -> list[str]:
        memory, state, ids = (
            MemoryBuckets(level_shift_buckets()),
            BrandState(last_bucket=START - timedelta(minutes=5)),
            [],
        )
        for hour in range(1, 4 * 24 + 1):
            report = run_cycle({"b": state}, START + timedelta(hours=hour, minutes=5), memory, settings={"b": config})
            state = report.states["b"]
            ids += [t.incident.id for t in report.transitions if t.kind == "open"]
        return ids

    campaign = {"start": START + timedelta(days=2), "end": START + timedelta(days=5), "reason": "campaign"}
    assert opened(DetectionSettings()) != []  # undeclared, the slow rise ends up alerting
    assert opened(DetectionSettings(planned_events=[campaign])) == []


@pytest.mark.parametrize("seed", [2, 3])
def test_a_paused_brand_does_not_learn_its_paused_days_as_calm(seed: int) -> None:
    """Two days paused (nothing polled, so no buckets), then mentions flow again. Learned as zeros, those days
    lower the baseline and the return of ordinary volume alerts; marked paused, they are skipped."""
    from groundswell.domain.detection.cycle import pause

    rng = np.random.default_rng(seed)
    days, paused = 18, range(14 * 288, 16 * 288)
    hours = np.arange(days * 288) * 5 / 60
    mean = 20 * (0.3 + 1.4 * (0.5 - 0.5 * np.cos(2 * np.pi * ((hours % 24) - 4) / 24)))
    negative = rng.negative_binomial(1 / 0.15, (1 / 0.15) / (1 / 0.15 + mean))
    stored = {
        START + timedelta(minutes=5 * i): Bucket(
            brand="b",
            start=START + timedelta(minutes=5 * i),
            total=4 * int(n),
            negative=int(n),
            negative_authors=int(n),
        )
        for i, n in enumerate(negative)
        if i not in paused
    }
    resumed = START + timedelta(days=16)

    def opened_after_resume(*, marked: bool) -> list[str]:
        memory, state, out = MemoryBuckets(stored), BrandState(last_bucket=START - timedelta(minutes=5)), []
        cycles = [START + timedelta(days=d, minutes=5) for d in range(1, 15)]  # daily while learning
        cycles += [resumed + timedelta(hours=h, minutes=5) for h in range(1, 48)]  # hourly after the pause
        for now in cycles:
            if marked and now == resumed + timedelta(hours=1, minutes=5):
                pause(state, START + timedelta(days=14, minutes=5))  # the detector saw the brand paused then
            elif not marked and now == resumed + timedelta(hours=1, minutes=5):  # polls failed: cycles ran on
                state = run_cycle({"b": state}, resumed + timedelta(minutes=5), memory).states["b"]
            report = run_cycle({"b": state}, now, memory)
            state = report.states["b"]
            out += [t.incident.id for t in report.transitions if t.kind == "open" and t.incident.opened_at >= resumed]
        return out

    assert opened_after_resume(marked=True) == []
    assert opened_after_resume(marked=False) != []  # the same days learned as calm: a false alert
