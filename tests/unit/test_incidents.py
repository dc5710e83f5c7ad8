"""Brand-level decisions (crowd, share, sustained shift) and the incident lifecycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from groundswell.domain.detection.brand import BrandDetector, decide
from groundswell.domain.detection.incidents import (
    CALM_BUCKETS,
    CALM_SPANS,
    Incident,
    OnsetTracker,
    Transition,
    advance,
    calm_span,
    severity,
)

START = datetime(2026, 11, 2, tzinfo=UTC)


def simulate(
    days: int,
    seed: int,
    *,
    flood: tuple[int, int] | None = None,
    crowd: tuple[int, int] | None = None,
    share_shift: tuple[int, int] | None = None,
) -> list[float]:
    """Per bucket p-values of a brand with ~6 mentions/5 min, 25% negative; optional disturbances."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int]] = []
    for i in range(days * 288):
        total = int(rng.poisson(6))
        negative = int(rng.binomial(total, 0.25))
        authors = negative
        if flood and flood[0] <= i < flood[1]:  # one person: +3 negatives a bucket, one author
            total, negative, authors = total + 3, negative + 3, authors + (1 if negative == authors else 0)
        if crowd and crowd[0] <= i < crowd[1]:  # many people: 4x negatives
            extra = int(rng.poisson(4.5))
            total, negative, authors = total + extra, negative + extra, authors + extra
        if share_shift and share_shift[0] <= i < share_shift[1]:  # same volume, mostly negative
            negative = int(rng.binomial(total, 0.8))
            authors = negative
        rows.append((total, negative, authors))
    totals, negatives, authors_ = zip(*rows, strict=True)
    moments = [START + timedelta(minutes=5 * i) for i in range(len(rows))]
    return decide(BrandDetector().scan(moments, totals, negatives, authors_)).pvalue.tolist()


def test_a_crowd_alerts_and_one_person_flooding_does_not() -> None:
    day = 288
    crowd = simulate(5, 1, crowd=(4 * day + 150, 4 * day + 174))
    assert min(crowd[4 * day + 150 : 4 * day + 174]) <= 1e-6
    flood = simulate(5, 1, flood=(4 * day + 150, 4 * day + 162))
    assert min(flood[4 * day + 150 : 4 * day + 170]) > 1e-6


def test_a_shift_in_negative_share_without_more_volume_alerts() -> None:
    day = 288
    pvalues = simulate(5, 2, share_shift=(4 * day + 150, 4 * day + 186))
    assert min(pvalues[4 * day + 150 : 4 * day + 186]) <= 1e-6
    assert min(simulate(5, 2)[day:]) > 1e-6  # and without it, nothing


def test_severity_grows_with_the_ratio() -> None:
    assert [severity(o, 10, 1e-3) for o in (20, 30, 60, 150)] == [1, 2, 3, 4]
    assert severity(20, 10, 1e-15) == 2


def test_a_handful_of_posts_never_reaches_the_severity_that_breaks_quiet_hours() -> None:
    """Before, severity was the ratio alone: a dozen negative posts against 0.15 expected opened as SEV4
    (critical), which goes through quiet hours."""
    assert severity(12, 0.15, 1e-9) == 2  # 80x, but 12 posts above usual
    assert severity(45, 4, 1e-9) == 3  # 11x, 41 above: high, not critical
    assert severity(130, 10, 1e-14) == 4  # 13x and 120 above: a real swell wakes the on-call


def test_onset_tracker_fires_on_new_highs_only() -> None:
    tracker = OnsetTracker()
    assert [tracker.is_onset(e) for e in (0.0, 0.3, 0.2, 0.5, 0.5, 0.1)] == [False, True, False, True, False, False]


def test_an_incident_opens_once_escalates_and_resolves_after_calm() -> None:
    t = START
    incident, changes = advance(
        None, brand="acme", bucket=t, pvalue=1e-7, onset=True, observed=30, expected=10, window_minutes=60
    )
    assert [c.kind for c in changes] == ["open"] and incident and incident.id == "acme:20261102T0000"
    assert incident.severity == 2
    assert incident.started_at == t - timedelta(minutes=55)  # the hour-long window that fired began then
    incident, changes = advance(
        incident,
        brand="acme",
        bucket=t + timedelta(minutes=5),
        pvalue=1e-9,
        onset=True,
        observed=120,
        expected=10,
        window_minutes=60,
    )
    assert [c.kind for c in changes] == ["escalate"] and incident and incident.severity == 4
    assert incident.id == "acme:20261102T0000"  # the same episode, the same id
    needed = CALM_SPANS[1][2]  # an hour-long episode: an hour judged, calm for half an hour
    for step in range(2, 2 + needed - 1):
        incident, changes = advance(
            incident,
            brand="acme",
            bucket=t + timedelta(minutes=5 * step),
            pvalue=0.5,
            onset=False,
            observed=10,
            expected=10,
            window_minutes=60,
        )
        assert incident is not None and changes == []
    incident, changes = advance(
        incident,
        brand="acme",
        bucket=t + timedelta(minutes=5 * (1 + needed)),
        pvalue=0.5,
        onset=False,
        observed=10,
        expected=10,
        window_minutes=60,
    )
    assert incident is None and [c.kind for c in changes] == ["resolve"]
    assert changes[0].incident.resolved_at == t + timedelta(minutes=10)  # when the calm began


def test_a_brief_dip_does_not_resolve_an_incident() -> None:
    incident, _ = advance(
        None, brand="acme", bucket=START, pvalue=1e-7, onset=True, observed=30, expected=10, window_minutes=60
    )
    for step in range(1, 40):
        calm = step % 10 != 0  # evidence returns every 50 minutes
        incident, changes = advance(
            incident,
            brand="acme",
            bucket=START + timedelta(minutes=5 * step),
            pvalue=0.5 if calm else 1e-3,
            onset=False,
            observed=20,
            expected=10,
            window_minutes=60,
        )
        assert incident is not None and all(c.kind != "resolve" for c in changes)


def test_current_numbers_are_the_last_two_hours_and_a_sustained_rise_there_is_not_calm() -> None:
    """The email's "Right now" is the last two hours whatever test fired; calm also needs them near normal."""
    incident, _ = advance(
        None,
        brand="acme",
        bucket=START,
        pvalue=1e-7,
        onset=True,
        observed=30,
        expected=5,
        window_minutes=15,
        recent=(90.0, 40.0),
    )
    assert incident and (incident.current_observed, incident.current_expected) == (90.0, 40.0)
    assert (incident.observed, incident.window_minutes) == (30, 15)  # the firing test's own numbers
    for step in range(1, 3 * CALM_BUCKETS):  # no evidence in the last hour, yet 2x over two hours: not calm
        incident, changes = advance(
            incident,
            brand="acme",
            bucket=START + timedelta(minutes=5 * step),
            pvalue=0.5,
            onset=False,
            observed=4,
            expected=5,
            window_minutes=5,
            recent=(80.0, 40.0),
        )
        assert incident is not None and changes == []
    assert (incident.current_observed, incident.current_expected) == (80.0, 40.0)
    for step in range(3 * CALM_BUCKETS, 4 * CALM_BUCKETS):
        incident, changes = advance(
            incident,
            brand="acme",
            bucket=START + timedelta(minutes=5 * step),
            pvalue=0.5,
            onset=False,
            observed=4,
            expected=5,
            window_minutes=5,
            recent=(44.0, 40.0),
        )
    assert incident is None and [c.kind for c in changes] == ["resolve"]


def _opened(window_minutes: int) -> Incident:
    incident, _ = advance(
        None,
        brand="acme",
        bucket=START,
        pvalue=1e-9,
        onset=True,
        observed=40,
        expected=2,
        window_minutes=window_minutes,
    )
    assert incident is not None
    return incident


def _calm_for(incident: Incident, first: datetime, buckets: int) -> tuple[Incident | None, list[Transition]]:
    changes: list[Transition] = []
    for step in range(buckets):
        calm_everywhere = [(0.5, 2.0, 2.0)] * len(CALM_SPANS)
        changed, changes = advance(
            incident,
            brand="acme",
            bucket=first + timedelta(minutes=5 * step),
            pvalue=0.5,
            onset=False,
            observed=2,
            expected=2,
            window_minutes=5,
            calm=calm_everywhere,
        )
        if changed is None:
            return None, changes
        incident = changed
    return incident, changes


def test_a_short_burst_resolves_after_half_an_hour_of_calm_a_long_swell_after_an_hour() -> None:
    burst = _opened(window_minutes=15)  # began 10 minutes before the opening bucket
    after, changes = _calm_for(burst, START + timedelta(minutes=5), 6)
    assert after is None and changes[0].kind == "resolve"
    assert changes[0].incident.resolved_at == START + timedelta(minutes=5)  # dated to where the calm began
    swell = _opened(window_minutes=240)  # a four-hour swell: the two-hour span, and an hour of it
    still, _ = _calm_for(swell, START + timedelta(minutes=5), CALM_BUCKETS - 1)
    assert still is not None
    done, changes = _calm_for(still, START + timedelta(minutes=5 * CALM_BUCKETS), 1)
    assert done is None and changes[0].kind == "resolve"


def test_calm_is_judged_on_the_span_that_fits_the_episode() -> None:
    burst = _opened(window_minutes=15)
    assert CALM_SPANS[calm_span(burst)][1] == 30
    hour = _opened(window_minutes=60)
    assert CALM_SPANS[calm_span(hour)][1] == 60
    day = _opened(window_minutes=240)
    assert CALM_SPANS[calm_span(day)][1] == 120
    # an episode grows while its shortest span is busy (less that span's lag): a burst still busy 95 minutes
    # after it began is judged on two hours
    assert CALM_SPANS[calm_span(replace(burst, busy_until=START + timedelta(minutes=60)))][1] == 60
    assert CALM_SPANS[calm_span(replace(burst, busy_until=START + timedelta(minutes=85)))][1] == 120
    # a busy 30-minute span keeps a short burst open although the longer spans look calm
    busy = [(0.5, 9.0, 2.0), (0.5, 2.0, 2.0), (0.5, 2.0, 2.0)]
    still, changes = advance(
        burst,
        brand="acme",
        bucket=START + timedelta(minutes=5),
        pvalue=0.5,
        onset=False,
        observed=2,
        expected=2,
        window_minutes=5,
        calm=busy,
    )
    assert still is not None and still.calm_buckets == 0 and changes == []
