"""The detector's statistics: reference values, seeded simulations, causality, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import nbinom

from benchmarks.nab_scorer import PROFILES, LabelledFile, file_counts, normalised, scaled_sigmoid, score_file
from groundswell.domain.detection.detector import WARM_UP, Detector
from groundswell.domain.detection.evidence import WINDOWS, combine, upper_tail
from groundswell.domain.detection.series import onsets, score_brand_series, score_series
from infra.cli import main as cli
from infra.csvio import CsvInputError, detect_csv, read_counts

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def seasonal_counts(
    rng: np.random.Generator, days: int, peak: float, phi: float = 0.2
) -> tuple[list[datetime], np.ndarray]:
    """Negative-binomial counts per 5 minutes around a daily cycle (quiet nights), seeded."""
    times = [START + timedelta(minutes=5 * i) for i in range(days * 288)]
    hours = np.array([t.hour + t.minute / 60 for t in times])
    mean = peak * (0.15 + 0.85 * (0.5 - 0.5 * np.cos(2 * np.pi * ((hours - 4) % 24) / 24)))
    size = 1 / phi
    return times, rng.negative_binomial(size, size / (size + mean)).astype(float)


def test_upper_tail_matches_scipy_reference_values() -> None:
    # mean 10, phi 0.1 -> size 10, p = 0.5: P(X >= 20) from scipy's own nbinom
    expected = nbinom.sf(19, 10, 0.5)
    assert upper_tail(np.array([20.0]), np.array([10.0]), np.array([0.1]))[0] == pytest.approx(expected, rel=1e-12)
    assert upper_tail(np.array([0.0]), np.array([10.0]), np.array([0.1]))[0] == pytest.approx(1.0)


def test_the_swell_tail_skips_only_sums_whose_tail_cannot_matter() -> None:
    """swell_tail is upper_tail above expectation and 1 at or below it, where the true tail is at least 0.28 for
    every phi the detector allows, so after combine's correction (x 4 or more) it is 1 either way."""
    from groundswell.domain.detection.evidence import swell_tail

    rng = np.random.default_rng(8)
    observed = rng.integers(0, 80, 2000).astype(float)
    mean, phi = rng.uniform(0.02, 60, 2000), rng.uniform(0.005, 3.0, 2000)
    above = np.ceil(observed) > mean
    exact = upper_tail(observed, mean, phi)
    assert np.array_equal(swell_tail(observed, mean, phi), np.where(above, exact, 1.0))
    assert exact[~above].min() >= 0.28  # so the skipped cells never decide: 4 x 0.28 > 1


def test_tails_and_fdr_match_scipy_stats() -> None:
    from scipy.stats import binom, false_discovery_control

    from groundswell.domain.detection.evidence import benjamini_hochberg, binomial_upper_tail

    rng = np.random.default_rng(4)
    observed = rng.integers(0, 60, 200).astype(float)
    mean, phi = rng.uniform(0.1, 30, 200), rng.uniform(0.01, 2, 200)
    size = 1 / phi
    assert np.allclose(upper_tail(observed, mean, phi), nbinom.sf(observed - 1, size, size / (size + mean)), rtol=1e-9)
    trials = rng.integers(0, 80, 200).astype(float)
    successes = np.minimum(observed, trials + 2)
    share = rng.uniform(0.01, 0.99, 200)
    assert np.allclose(binomial_upper_tail(successes, trials, share), binom.sf(successes - 1, trials, share), rtol=1e-9)
    pvalues = rng.uniform(0, 1, 50) ** 3
    assert np.allclose(benjamini_hochberg(pvalues), false_discovery_control(pvalues, method="bh"))


def test_combine_takes_the_smallest_tail_with_bonferroni() -> None:
    tails = np.array([[0.5, 1e-4, 0.2], [0.9, 0.9, 0.9]])
    pvalue, which = combine(tails)
    assert pvalue.tolist() == pytest.approx([3e-4, 1.0])
    assert which.tolist() == [1, 0]


def test_incremental_window_sums_equal_brute_force() -> None:
    rng = np.random.default_rng(3)
    detector = Detector()
    values = rng.poisson(4, 200).astype(float)
    for i, value in enumerate(values):  # one bucket per call, as the detector function's cycles
        sums = detector.scan([START + timedelta(minutes=5 * i)], [value])
        for index, window in enumerate(WINDOWS):
            assert sums.observed[index] == pytest.approx(values[max(0, i - window + 1) : i + 1].sum())


def test_quiet_seasonal_noise_rarely_alerts_and_a_swell_is_caught_early() -> None:
    rng = np.random.default_rng(11)
    times, counts = seasonal_counts(rng, days=10, peak=8)
    quiet = score_series(times, counts)
    assert quiet.alert.sum() <= 1  # ten days of ordinary noise
    swell = counts.copy()
    start = 8 * 288 + 150  # day 9, mid-afternoon
    swell[start : start + 24] += rng.poisson(4 * quiet.expected[start : start + 24])  # 5x for two hours
    loud = score_series(times, swell)
    first = np.flatnonzero(loud.alert)
    assert len(first) and start <= first[0] <= start + 6  # within 30 minutes
    assert loud.alert[start : start + 36].sum() == 1  # one incident for the swell: one alert row
    assert ((loud.score > 0) & (loud.pvalue <= 1e-6))[start : start + 36].sum() > 1  # though several onsets


def test_a_sustained_rise_found_by_the_cusum_reports_the_cusums_run() -> None:
    """A 1.7x rise held for hours is found by the CUSUM, not a window: the incident's numbers are the run's since
    the CUSUM left 0, not the 4-hour window's (which once said "3,835 observed, 4,753 expected" on NAB)."""
    rng = np.random.default_rng(0)
    times, counts = seasonal_counts(rng, days=10, peak=20)
    start = 8 * 288 + 100
    counts[start : start + 144] += rng.poisson(0.7 * score_series(times, counts).expected[start : start + 144])
    scores = score_series(times, counts)
    (row,) = np.flatnonzero(scores.alert)
    minutes = int(scores.window_minutes[row])
    assert minutes not in [w * 5 for w in WINDOWS]  # the CUSUM's run fired
    assert minutes <= (row - start + 12) * 5  # and it began at most an hour before the rise
    assert scores.observed_sum[row] / scores.expected_sum[row] > 1.5


def test_a_sparse_brand_works_too() -> None:
    rng = np.random.default_rng(5)
    times, counts = seasonal_counts(rng, days=10, peak=0.5, phi=0.3)
    assert score_series(times, counts).alert.sum() <= 1
    counts[9 * 288 + 120 : 9 * 288 + 132] += 3  # a dozen extra per hour where ~0.4 are normal
    assert score_series(times, counts).alert[9 * 288 + 120 : 9 * 288 + 140].any()


def test_a_new_brand_stays_quiet_until_it_has_a_day_of_history() -> None:
    times = [START + timedelta(minutes=5 * i) for i in range(WARM_UP + 10)]
    values = [0.0] * 50 + [40.0] * (WARM_UP + 10 - 50)
    assert score_series(times, values).alert[:WARM_UP].sum() == 0


def test_each_row_depends_only_on_earlier_rows() -> None:
    rng = np.random.default_rng(9)
    times, counts = seasonal_counts(rng, days=4, peak=5)
    counts[700:720] *= 6
    full = score_series(times, counts)
    for cut in (400, 710, 1000):
        part = score_series(times[:cut], counts[:cut])
        assert np.allclose(part.score, full.score[:cut]) and (part.alert == full.alert[:cut]).all()


def test_onsets_keep_only_new_highs() -> None:
    evidence = np.array([0.1, 0.5, 0.4, 0.6, 0.2, 0.1])
    assert onsets(evidence, memory=3).tolist() == [0.1, 0.5, 0.0, 0.6, 0.0, 0.0]
    assert onsets(evidence, memory=1).tolist() == [0.1, 0.5, 0.0, 0.6, 0.0, 0.0]


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Detector().scan([START], [-1.0])
    with pytest.raises(ValueError, match="non-negative"):
        Detector().scan([START], [float("nan")])


def test_detect_command_writes_scores_and_names_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    times, counts = seasonal_counts(rng, days=3, peak=6)
    source = tmp_path / "in.csv"
    source.write_text(
        "timestamp,value\n" + "".join(f"{t:%Y-%m-%d %H:%M:%S},{int(c)}\n" for t, c in zip(times, counts, strict=True))
    )
    out = tmp_path / "out.csv"
    assert cli(["detect", "--input", str(source), "--output", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,alert" and len(lines) == len(times) + 1
    assert all(0 <= float(line.split(",")[2]) <= 1 for line in lines[1:])
    quoted = tmp_path / "quoted.csv"  # other columns pass through, quoting included
    quoted.write_text('note,timestamp,value\n"a, b",2026-01-01 00:00:00,3\n')
    assert cli(["detect", "--input", str(quoted), "--output", str(out)]) == 0
    expected = ["note,timestamp,value,anomaly_score,alert", '"a, b",2026-01-01 00:00:00,3,0.000000,0']
    assert out.read_text().splitlines() == expected
    cases = [
        ("timestamp,value\n2026-01-01 00:00:00,abc\n", "bad.csv:2: value 'abc' is not a number"),
        ("timestamp,value\n2026-01-01 00:00:00,-3\n", "is negative"),
        ("timestamp,count\n2026-01-01 00:00:00,3\n", "no 'value' column"),
        ("timestamp,value\n2026-01-01 00:05:00,3\n2026-01-01 00:00:00,3\n", "timestamps must increase"),
        ("timestamp,value\n\n2026-01-01 00:00:00\n", "bad.csv:3: 1 fields where the header has 2"),
    ]
    capsys.readouterr()
    for body, message in cases:
        bad = tmp_path / "bad.csv"
        bad.write_text(body)
        assert cli(["detect", "--input", str(bad), "--output", str(out)]) == 2
        assert message in capsys.readouterr().err


def test_timestamps_without_an_offset_are_utc_and_offsets_are_honoured(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01T00:05:00,2\n")
    _, _, times, _ = read_counts(source, "value")
    assert times == [START.replace(month=1, day=1), START.replace(month=1, day=1, minute=5)]
    source.write_text("timestamp,value\n2026-01-01,1\n2026-01-02,2\n")  # dates alone: midnight UTC
    assert read_counts(source, "value")[2][1] == datetime(2026, 1, 2, tzinfo=UTC)
    source.write_text(
        "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01T01:05:00+01:00,2\n2026-01-01T01:00:00+01:00,3\n"
    )
    with pytest.raises(CsvInputError, match=r"in.csv:4: timestamps must increase \(2026-01-01T01:00:00\+01:00 after"):
        read_counts(source, "value")  # 00:00 UTC is not after 00:05 UTC
    source.write_text("timestamp,value\n2026-01-01 00:00:00,1\nyesterday,2\n")
    with pytest.raises(CsvInputError, match=r"in\.csv:3: timestamp 'yesterday' is not ISO 8601"):
        read_counts(source, "value")


def test_nab_scorer_bounds_and_sigmoid() -> None:
    assert scaled_sigmoid(-1) == pytest.approx(0.9866, abs=1e-4) and scaled_sigmoid(0) == 0
    labels = LabelledFile("f", [(800, 899)], 2000)
    profile = PROFILES["standard"]
    perfect = np.zeros(2000, dtype=bool)
    perfect[800] = True
    nothing = np.zeros(2000, dtype=bool)
    assert normalised(score_file(perfect, labels, profile), [labels], profile) == pytest.approx(100.0)
    assert normalised(score_file(nothing, labels, profile), [labels], profile) == pytest.approx(0.0)
    early_fp = perfect.copy()
    early_fp[100] = True  # before the probation ends (300 rows): ignored
    early_fp[1000] = True  # one window length after it: costs 0.11 * sigmoid(1)
    assert score_file(early_fp, labels, profile) == pytest.approx(scaled_sigmoid(-1) + 0.11 * scaled_sigmoid(1.01))
    assert file_counts(early_fp, labels) == (1, 1) and file_counts(nothing, labels) == (0, 0)


def test_a_total_column_adds_the_share_signal_and_an_authors_column_the_crowd_test(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    times, totals = seasonal_counts(rng, days=8, peak=30)
    negative = rng.binomial(totals.astype(int), 0.2).astype(float)
    shift = slice(7 * 288 + 150, 7 * 288 + 186)  # three hours: the share triples, the volume does not change
    negative[shift] = rng.binomial(totals[shift].astype(int), 0.6)
    authors = negative.copy()

    def detect(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        source, out = tmp_path / "in.csv", tmp_path / "out.csv"
        names = list(columns)
        lines = [f"{t:%Y-%m-%dT%H:%M:%S}," + ",".join(f"{columns[n][i]:g}" for n in names) for i, t in enumerate(times)]
        source.write_text("\n".join([",".join(["timestamp", *names]), *lines]) + "\n")
        assert cli(["detect", "--input", str(source), "--output", str(out)]) == 0
        rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
        return np.array([float(r[-2]) for r in rows]), np.array([int(r[-1]) for r in rows])

    scores, alerts = detect({"value": negative, "total": totals})
    assert np.allclose(scores, score_brand_series(times, negative, totals).score, atol=1e-6)  # the brand's test
    assert alerts[shift].any() and alerts[: 7 * 288].sum() <= 1
    assert detect({"value": negative, "total": totals, "authors": authors})[1][shift].any()  # a crowd
    authors[shift] = np.minimum(authors[shift], 2.0)  # the same extra negatives from one or two people
    assert not detect({"value": negative, "total": totals, "authors": authors})[1][shift].any()
    (tmp_path / "bad.csv").write_text("timestamp,value,total\n2026-01-01T00:00:00,5,3\n")
    with pytest.raises(CsvInputError, match=r"bad\.csv:2: value 5 is above total 3"):
        detect_csv(tmp_path / "bad.csv", tmp_path / "out.csv")


def test_the_detect_scores_open_the_incidents_the_detector_function_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    """JetBlue's airline tweets (the "Delta" rows) through the function's ``run_cycle``, one bucket per cycle and
    a day per cycle (catching up), and through the series scorer: the same openings. Its Sunday episode resolves
    with the CUSUM still high; the function restarts it, also for the buckets after it in a catch-up cycle, and
    so must the scorer, or they open a second incident at 01:20 (both did until 2026-11-24). The "fleek" gaffe
    on Monday (mockery, a quarter of it negative) opens an attention notice, not a crisis, at 18:25."""
    from benchmarks.airline_backtest import DEFAULT_START, series
    from groundswell.domain.detection.cycle import BrandState, run_cycle
    from groundswell.domain.detection.detector import Scan
    from groundswell.domain.models import Bucket, bucket_start
    from infra.memory import MemoryBuckets

    cells = series("human")["Delta"]
    start = bucket_start(max(DEFAULT_START, min(cells)))
    times = [start + timedelta(minutes=5 * i) for i in range(int((max(cells) - start) / timedelta(minutes=5)) + 1)]
    counts = [cells.get(t, [0, 0, set()]) for t in times]
    stored = {
        t: Bucket(brand="b", start=t, total=c[0], negative=c[1], negative_authors=len(c[2]))
        for t, c in zip(times, counts, strict=True)
    }
    for buckets_per_cycle in (1, 288):
        memory, state, opened = MemoryBuckets(stored), BrandState(last_bucket=start - timedelta(minutes=5)), []
        noticed = []
        for step in range(buckets_per_cycle, len(times) + 2 * buckets_per_cycle, buckets_per_cycle):
            report = run_cycle({"b": state}, start + timedelta(minutes=5 * (step + 1)), memory)
            state = report.states["b"]
            opens = [t.incident for t in report.transitions if t.kind == "open"]
            opened += [i.opened_at for i in opens if i.kind == "crisis"]
            noticed += [i.opened_at for i in opens if i.kind == "attention"]
        assert opened == [datetime(2015, 2, 22, 17, 15, tzinfo=UTC)], buckets_per_cycle
        assert noticed == [datetime(2015, 2, 23, 18, 25, tzinfo=UTC)], buckets_per_cycle
    columns = [[float(c[1]) for c in counts], [float(c[0]) for c in counts], [float(len(c[2])) for c in counts]]
    scored = score_brand_series(times, *columns).alert
    assert [times[i] for i in np.flatnonzero(scored)] == opened
    monkeypatch.setattr(Scan, "restart_after", lambda self, row, until: (0.0, 0.0, 0.0, 0))
    assert score_brand_series(times, *columns).alert.sum() > 1  # without the restart, the CUSUM re-opens


def test_a_long_cusum_run_reports_its_last_four_hours_when_they_are_further_above_normal() -> None:
    from groundswell.domain.detection.brand import fired_numbers

    observed, expected = np.zeros((3, len(WINDOWS))), np.ones((3, len(WINDOWS)))
    observed[:, -1], expected[:, -1] = [320.0, 150.0, 99.0], 100.0  # the 4-hour window: 3.2x, 1.5x, 0.99x
    cusum = np.array([len(WINDOWS)] * 3)  # the CUSUM fired on all three rows
    runs = np.array([230.0, 230.0, 50.0]), np.array([100.0, 100.0, 25.0]), np.array([192, 192, 20])
    fired_observed, fired_expected, minutes = fired_numbers(cusum, observed, expected, *runs)
    assert list(zip(fired_observed, fired_expected, minutes, strict=True)) == [
        (320.0, 100.0, 240),  # a 16-hour run at 2.3x whose last 4 hours are at 3.2x: those
        (230.0, 100.0, 960),  # ... whose last 4 hours are at 1.5x: the run
        (50.0, 25.0, 100),  # a run shorter than 4 hours: the run, even where the 4-hour window is below normal
    ]


def test_a_resolved_burst_does_not_silence_the_next_crisis_that_day() -> None:
    """A 20-minute burst at 09:00 resolves about an hour after it ended; a two-hour 10x swell at 15:00 is a new
    incident once its evidence passes the burst's (the onset rule: a new high over 24 hours). With the evidence
    capped at p = 1e-12, the burst's equalled any later crisis's: the swell opened nothing."""
    from groundswell.domain.detection.cycle import BrandState, run_cycle
    from groundswell.domain.models import Bucket
    from infra.memory import MemoryBuckets

    rng = np.random.default_rng(1)
    times = [START + timedelta(minutes=5 * i) for i in range(12 * 288)]
    negative = rng.poisson(3.0, len(times)).astype(float)
    burst, swell = 10 * 288 + 9 * 12, 10 * 288 + 15 * 12
    negative[burst : burst + 4] += 40
    negative[swell : swell + 24] += 30
    scored = score_brand_series(times, negative.tolist(), (negative * 4).tolist())
    opened = [times[i] for i in np.flatnonzero(scored.alert)]
    assert len(opened) == 2 and opened[0] == times[burst]
    assert times[swell] <= opened[1] <= times[swell] + timedelta(minutes=40)

    stored = {
        t: Bucket(brand="b", start=t, total=int(4 * n), negative=int(n), negative_authors=int(n))
        for t, n in zip(times, negative, strict=True)
    }
    memory, state, transitions = MemoryBuckets(stored), BrandState(last_bucket=START - timedelta(minutes=5)), []
    for hour in range(1, 12 * 24 + 1):  # hourly cycles
        report = run_cycle({"b": state}, START + timedelta(hours=hour, minutes=5), memory)
        state, transitions = report.states["b"], transitions + report.transitions
    assert [t.incident.opened_at for t in transitions if t.kind == "open"] == opened
    resolved = [t.incident for t in transitions if t.kind == "resolve"]
    burst_end = times[burst + 4]
    assert resolved[0].resolved_at is not None and resolved[0].resolved_at - burst_end <= timedelta(minutes=35)


def test_a_backfilled_week_is_learned_not_judged_and_the_brand_has_history_at_once() -> None:
    """A brand added with a week of backfilled history: its first cycle learns the week (a crisis in it is
    not news), and a swell on its first day is judged with a full baseline, not a new brand's penalty."""
    from groundswell.domain.detection.cycle import BrandState, run_cycle, with_history
    from groundswell.domain.detection.incidents import Incident
    from groundswell.domain.models import Bucket
    from infra.memory import MemoryBuckets

    rng = np.random.default_rng(3)
    added = START + timedelta(days=7)
    times = [START + timedelta(minutes=5 * i) for i in range(8 * 288)]
    negative = rng.poisson(2.0, len(times)).astype(float)
    negative[2 * 288 : 2 * 288 + 24] += 25  # last week's crisis, in the backfill
    first_day = 7 * 288 + 14 * 12  # 14:00 on the day it was added
    negative[first_day : first_day + 12] += 12  # a swell on its first day
    stored = {
        t: Bucket(brand="b", start=t, total=int(4 * n), negative=int(n), negative_authors=int(n))
        for t, n in zip(times, negative, strict=True)
    }

    def run(state: BrandState | None, first: datetime) -> list[Incident]:
        memory, transitions = MemoryBuckets(stored), []
        now = first
        while now <= START + timedelta(days=8):
            report = run_cycle({"b": state}, now, memory)
            state, transitions = report.states["b"], transitions + report.transitions
            now += timedelta(hours=1)
        return [t.incident for t in transitions if t.kind == "open"]

    backfilled = with_history(None, START, added + timedelta(minutes=10))
    opened = run(backfilled, added + timedelta(minutes=10))
    assert [i.opened_at.date() for i in opened] == [times[first_day].date()]  # nothing about last week
    assert not opened[0].limited_history and opened[0].baseline_days >= 7
    fresh = MemoryBuckets({t: b for t, b in stored.items() if t >= added})
    report = run_cycle({"b": None}, added + timedelta(hours=20), fresh)  # the same day without the backfill
    without = [t.incident for t in report.transitions if t.kind == "open"]
    assert [i.limited_history for i in without] == [True]  # a new brand's first day: 1,000x stricter
    assert opened[0].pvalue < without[0].pvalue


def _attention_run(swell: int, turn: int | None, end: int) -> list:  # type: ignore[type-arg]
    """Every transition of hourly cycles over 3 days of ordinary mentions (10 a bucket, 2 negative), all
    mentions 6x from bucket ``swell`` to ``end``, and the negatives 8x from ``turn`` to ``end`` (None: never)."""
    from groundswell.domain.detection.cycle import BrandState, run_cycle
    from groundswell.domain.models import Bucket
    from infra.memory import MemoryBuckets

    rng = np.random.default_rng(7)
    stored = {}
    for i in range(3 * 288 + 288):
        total, negative = int(rng.poisson(10)), int(rng.poisson(2))
        if swell <= i < end:
            total += int(rng.poisson(50))
        if turn is not None and turn <= i < end:
            negative += int(rng.poisson(15))
        moment = START + timedelta(minutes=5 * i)
        stored[moment] = Bucket(
            brand="b", start=moment, total=total + negative, negative=negative, negative_authors=negative
        )
    state, transitions = BrandState(last_bucket=START - timedelta(minutes=5)), []
    for hour in range(1, 4 * 24):
        report = run_cycle({"b": state}, START + timedelta(hours=hour, minutes=5), MemoryBuckets(stored))
        state = report.states["b"]
        transitions += report.transitions
    return transitions


def test_a_swell_of_attention_opens_a_notice_then_a_crisis_when_negatives_follow() -> None:
    """All mentions 6x for an hour with the negatives as usual: an attention notice, no crisis. Then the
    negatives swell: the crisis opens, says it began as attention, and the notice ends there (``became``)."""
    swell, turn = 3 * 288 + 150, 3 * 288 + 162  # Thursday 12:30, then 13:30
    transitions = _attention_run(swell, turn, turn + 24)
    opened = [(t.incident.kind, t.incident.opened_at) for t in transitions if t.kind == "open"]
    at = START + timedelta(minutes=5 * swell)
    assert [kind for kind, _ in opened] == ["attention", "crisis"]
    assert at <= opened[0][1] <= at + timedelta(minutes=15) and opened[1][1] >= START + timedelta(minutes=5 * turn)
    notice = next(t.incident for t in transitions if t.kind == "open" and t.incident.kind == "attention")
    ended = next(t.incident for t in transitions if t.kind == "resolve" and t.incident.kind == "attention")
    crisis = next(t.incident for t in transitions if t.kind == "open" and t.incident.kind == "crisis")
    assert notice.id.endswith(":attention") and notice.severity == 1 and notice.observed > 3 * notice.expected
    assert ended.became == crisis.id and ended.resolved_at == crisis.opened_at
    assert crisis.attention_from == notice.opened_at


def test_an_attention_notice_ends_on_its_own_calm_and_never_opens_a_crisis() -> None:
    swell = 3 * 288 + 150
    transitions = _attention_run(swell, None, swell + 12)
    assert [(t.kind, t.incident.kind) for t in transitions] == [("open", "attention"), ("resolve", "attention")]
    ended = transitions[-1].incident
    assert ended.became is None and ended.resolved_at is not None
    assert ended.resolved_at - START - timedelta(minutes=5 * (swell + 12)) <= timedelta(hours=1)


def test_a_rebuilt_detector_state_keeps_the_open_crisis_and_the_open_attention_notice_apart() -> None:
    """A detector state that cannot be read is rebuilt from the stored incidents: the latest of each kind is
    open or none is. An open attention notice is not taken for a crisis (it would page on its resolve)."""
    from types import SimpleNamespace

    from groundswell.domain.detection.cycle import INCIDENT
    from groundswell.usecases.detect import _state

    at = START + timedelta(days=3)

    def incident(kind: str, hours: int, resolved: bool) -> bytes:
        opened = at + timedelta(hours=hours)
        return INCIDENT.dump_json(
            detector_incident(
                id=f"b:{opened:%Y%m%dT%H%M}" + (":attention" if kind == "attention" else ""),
                opened_at=opened,
                severity=2 if kind == "crisis" else 1,
                resolved_at=opened + timedelta(hours=1) if resolved else None,
                kind=kind,
            )
        )

    def rebuilt(*history: bytes):  # type: ignore[no-untyped-def]
        store = SimpleNamespace(incidents=SimpleNamespace(history=lambda brand: [h.decode() for h in history]))
        return _state("b", b"not zlib", store, at + timedelta(hours=12))  # type: ignore[arg-type]

    state = rebuilt(incident("crisis", 0, True), incident("attention", 5, False))
    assert state is not None and state.incident is None and state.attention is not None
    assert state.attention.id.endswith(":attention")
    state = rebuilt(incident("attention", 0, True), incident("crisis", 1, False))
    assert state is not None and state.incident is not None and state.incident.kind == "crisis"
    assert state.attention is None


def test_an_attention_notices_drivers_and_authors_come_from_all_its_posts() -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    from groundswell.domain.models import Mention, Sentiment
    from groundswell.usecases.detect import _with_drivers
    from tests.conftest import make_brand

    at = START + timedelta(days=3)
    posts = [
        Mention(
            source="bluesky",
            id=str(i),
            brand="acme-air",
            text="our fleet's on fleek lol" if i % 2 else "acme air fleek tweet, delete your account",
            author=f"Person{i % 3}" if i < 30 else f"person{i % 3}",  # 3 people, whatever the case
            created_at=at - timedelta(minutes=i % 10),
            sentiment=Sentiment.NEUTRAL if i % 4 else Sentiment.NEGATIVE,
        )
        for i in range(60)
    ]
    store = SimpleNamespace(
        mentions=SimpleNamespace(mentions=lambda brand, start, end: [p for p in posts if start <= p.created_at < end])
    )
    notice = detector_incident(id="acme-air:x:attention", brand="acme-air", opened_at=at, kind="attention")
    described = _with_drivers(notice, make_brand(), store)  # type: ignore[arg-type]
    assert described.authors == 3 and "fleek" in described.drivers
    crisis = _with_drivers(replace(notice, kind="crisis", id="acme-air:x"), make_brand(), store)  # type: ignore[arg-type]
    assert crisis.authors is None


def detector_incident(**fields):  # type: ignore[no-untyped-def]
    """An incident as the detector keeps it (``incidents.Incident``), 40 vs 4 in 15 minutes."""
    from groundswell.domain.detection.incidents import Incident

    opened = fields.get("opened_at", START)
    defaults = {"brand": "b", "opened_at": opened, "severity": 1, "pvalue": 1e-9, "window_minutes": 15}
    numbers = {"observed": 40, "expected": 4, "peak_at": opened, "current_observed": 40, "current_expected": 4}
    return Incident(**{**defaults, **numbers, **fields})
