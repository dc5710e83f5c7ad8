"""The brand detector on the airline tweets: which hand-labelled windows alert, how early, and what else.

    python -m benchmarks.airline_backtest [--labels human|scorer] [--sensitivity fewer|balanced|more]

Per airline, negative mentions (the crowd's labels, or the default scorer's), distinct negative authors and
all mentions per 5 minutes, from the start of the airline's coverage (earlier hours are missing data, not
calm: see ../shared/data/airline/README.md). Incidents come from the same code as the detector function.
For a window that does not alert it prints the closest the evidence came (the smallest p-value judged in it,
from ``groundswell detect``'s scoring, which makes the function's decisions), and whether an incident was
already open.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from benchmarks.common import SHARED, airline_tweets
from groundswell.domain.detection.cycle import BrandState, run_cycle
from groundswell.domain.detection.drivers import describe
from groundswell.domain.detection.incidents import SENSITIVITY, Incident
from groundswell.domain.detection.series import SeriesScores, score_brand_series
from groundswell.domain.models import Bucket, DetectionSettings, Mention, Sentiment, bucket_start
from infra.memory import MemoryBuckets

HANDLES = {
    "American": "@AmericanAir",
    "Delta": "@JetBlue",
    "Southwest": "@SouthwestAir",
    "United": "@united",
    "US Airways": "@USAirways",
    "Virgin America": "@VirginAmerica",
}
COVERAGE_START = {"American": datetime(2015, 2, 22, 19, 58, tzinfo=UTC)}
DEFAULT_START = datetime(2015, 2, 17, 16, 0, tzinfo=UTC)
WINDOWS_CSV = SHARED / "data" / "airline" / "airline_crisis_windows.csv"


def series(labels: str) -> dict[str, dict[datetime, list]]:
    """airline -> bucket -> [total, negative, set of negative authors, negative mentions]."""
    rows = airline_tweets()
    if labels == "scorer":
        from groundswell.domain.sentiment.complaints import ComplaintAwareVader

        scorer = ComplaintAwareVader()
        negatives = [scorer.score_one(r["text"])[0].value == "negative" for r in rows]
    else:
        negatives = [r["airline_sentiment"] == "negative" for r in rows]
    out: dict[str, dict[datetime, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0, set(), []]))
    for row, negative in zip(rows, negatives, strict=True):
        created = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
        cell = out[row["airline"]][bucket_start(created)]
        cell[0] += 1
        if negative:
            cell[1] += 1
            cell[2].add(row["name"])
            cell[3].append(
                Mention(
                    source="twitter",
                    id=row["tweet_id"],
                    brand="x",
                    text=row["text"],
                    author=row["name"],
                    created_at=created,
                    sentiment=Sentiment.NEGATIVE,
                )
            )
    return out


def negatives_between(buckets: dict[datetime, list], start: datetime, end: datetime) -> list[Mention]:
    return [m for moment, cell in buckets.items() if start <= moment < end for m in cell[3]]


def coverage_start(name: str, buckets: dict[datetime, list]) -> datetime:
    return bucket_start(max(COVERAGE_START.get(name, DEFAULT_START), min(buckets)))


def evidence(name: str, buckets: dict[datetime, list], alert_p: float) -> SeriesScores:
    """Every bucket's evidence from the coverage start on, as ``groundswell detect`` computes it (the same
    decisions as the function: tested), to say how far a quiet window was from alerting."""
    start, times = coverage_start(name, buckets), []
    while start <= max(buckets):
        times.append(start)
        start += timedelta(minutes=5)
    cells = [buckets.get(t, [0, 0, set()]) for t in times]
    return score_brand_series(
        times, [c[1] for c in cells], [c[0] for c in cells], [len(c[2]) for c in cells], alert_p=alert_p
    )


def strongest(scores: SeriesScores, start: datetime, end: datetime) -> str:
    """The smallest p-value judged inside [start, end), with what it saw."""
    rows = [i for i, t in enumerate(scores.times) if start <= t < end]
    if not rows:
        return "not covered"
    if end <= scores.times[0] + timedelta(days=1):
        return "closest: none, the window is in the airline's first day of coverage (a new brand's warm-up)"
    row = min(rows, key=lambda i: scores.pvalue[i])
    return (
        f"closest: p = {scores.pvalue[row]:.1g} at {scores.times[row]:%H:%M} ({scores.observed_sum[row]:.0f} vs "
        f"{scores.expected_sum[row]:.1f} in {scores.window_minutes[row]} min)"
    )


def run_airline(
    name: str,
    buckets: dict[datetime, list],
    settings: DetectionSettings,
    latest: dict[str, Incident],
    all_clear: dict[str, datetime],
    noticed: list[Incident] | None = None,
) -> list[Incident]:
    """The detector function's own cycle, called every simulated hour over the coverage (one brand: no FDR):
    the crisis incidents as opened; ``latest`` gets each one's last described state (after escalations,
    updates), ``all_clear`` the bucket whose judgement resolved it (its all-clear is sent then); ``noticed``
    the attention notices as opened."""
    start = coverage_start(name, buckets)
    repository = MemoryBuckets(
        {
            m: Bucket(brand=name, start=m, total=c[0], negative=c[1], negative_authors=len(c[2]))
            for m, c in buckets.items()
            if m >= start
        }
    )
    state = BrandState(last_bucket=start - timedelta(minutes=5))  # learn from the coverage start on
    opened: list[Incident] = []
    now = start + timedelta(hours=1, minutes=5)
    while now <= max(buckets) + timedelta(hours=1, minutes=5):
        report = run_cycle({name: state}, now, repository, settings={name: settings})
        state = report.states[name]
        for transition in report.transitions:
            if transition.incident.kind == "attention":
                if transition.kind == "open" and noticed is not None:
                    noticed.append(transition.incident)
                continue
            if transition.kind == "resolve":
                all_clear[transition.incident.id] = transition.at or now
                latest[transition.incident.id] = replace(
                    latest[transition.incident.id], resolved_at=transition.incident.resolved_at
                )
            if transition.kind in ("open", "escalate", "update"):  # what the function adds from stored mentions
                incident = transition.incident
                begin, end = incident.evidence_span()
                terms, sources = describe(
                    negatives_between(buckets, begin, end),
                    negatives_between(buckets, begin - timedelta(days=1), begin),
                    [name, HANDLES.get(name, "")],
                )
                described = replace(incident, drivers=terms, sources=sources)
                if transition.kind == "open":
                    opened.append(described)
                latest[incident.id] = described
        now += timedelta(hours=1)
    return opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", choices=["human", "scorer"], default="human")
    parser.add_argument("--sensitivity", choices=list(SENSITIVITY), default="balanced")
    args = parser.parse_args()
    began = time.perf_counter()
    data = series(args.labels)
    with WINDOWS_CSV.open(newline="") as handle:
        windows = list(csv.DictReader(handle))
    p_open = SENSITIVITY[args.sensitivity]
    settings = DetectionSettings(sensitivity=args.sensitivity)
    latest: dict[str, Incident] = {}
    all_clear: dict[str, datetime] = {}
    noticed: dict[str, list[Incident]] = {name: [] for name in data}
    opened = {
        name: run_airline(name, buckets, settings, latest, all_clear, noticed[name])
        for name, buckets in sorted(data.items())
    }
    scores = {name: evidence(name, buckets, p_open) for name, buckets in data.items()}
    print(
        f"negative labels: {args.labels}; sensitivity {args.sensitivity} (p <= {p_open:g}); "
        f"{sum(len(v) for v in opened.values())} incidents opened "
        f"({time.perf_counter() - began:.1f} s)"
    )
    matched: set[str] = set()
    ended: list[float] = []  # minutes from a crisis window's end to its incident's all-clear
    print(f"{'airline':<16}{'window (UTC)':<24}{'kind':<13}{'alerted':<9}{'delay':>7}  label")
    for w in windows:
        start = datetime.fromisoformat(w["start_utc"]).replace(tzinfo=UTC)
        end = datetime.fromisoformat(w["end_utc"]).replace(tzinfo=UTC)
        hits = [i for i in opened.get(w["airline_in_data"], []) if start - timedelta(hours=1) <= i.opened_at <= end]
        matched.update(i.id for i in hits)
        delay = f"{(hits[0].opened_at - start).total_seconds() / 60:+.0f}m" if hits else ""
        must_stay_quiet = w["kind"] in ("not_crisis", "artifact")
        verdict = ("yes" if hits else "no") + (" (!)" if must_stay_quiet == bool(hits) else "")
        print(
            f"{w['airline_in_data']:<16}{start:%m-%d %H:%M}-{end:%H:%M}{'':<7}{w['kind']:<13}{verdict:<9}{delay:>7}  "
            f"{w['label'][:60]}"
        )
        if not hits:
            ongoing = [
                i.opened_at
                for i in opened.get(w["airline_in_data"], [])
                if i.opened_at < start < (latest[i.id].resolved_at or end)
            ]
            within = f" (inside the incident opened {ongoing[0]:%m-%d %H:%M})" if ongoing else ""
            print(f"{'':<16}{strongest(scores[w['airline_in_data']], start, end)}{within}")
        for incident in hits:
            print(
                f"{'':<16}severity {incident.severity} at opening, {latest[incident.id].severity} at its highest; "
                f"drivers at opening: {', '.join(incident.drivers) or '(none)'}; over the episode: "
                f"{', '.join(latest[incident.id].drivers) or '(none)'}"
            )
            if incident.id in all_clear:
                after = (all_clear[incident.id] - end).total_seconds() / 60
                if not must_stay_quiet:
                    ended.append(after)
                print(f"{'':<16}all clear {all_clear[incident.id]:%m-%d %H:%M}, {after:+.0f} min after the window")
    reopened = sum(
        1
        for incidents in opened.values()
        for before, after in pairwise(incidents)
        if before.id in all_clear and after.opened_at - all_clear[before.id] <= timedelta(days=1)
    )
    if ended:
        print(
            f"crisis windows' end to their incident's all clear: median {statistics.median(ended):+.0f} min "
            f"({len(ended)} windows); incidents re-opened within a day of an all clear: {reopened}"
        )
    outside = [i for v in opened.values() for i in v if i.id not in matched]
    print(f"incidents outside every labelled window: {len(outside)}")
    for i in outside:
        print(
            f"  {i.brand:<16}{i.opened_at:%m-%d %H:%M} UTC  severity {i.severity}  {i.observed:.0f} vs "
            f"{i.expected:.1f} expected in {i.window_minutes} min{'  (limited history)' if i.limited_history else ''}"
        )
    print("(!) marks a miss of a crisis window, or an alert on a not_crisis or artifact window")
    attention_notices(noticed, windows, data)


def attention_notices(
    noticed: dict[str, list[Incident]], windows: list[dict[str, str]], data: dict[str, dict[datetime, list]]
) -> None:
    """The attention notices (all mentions far beyond normal, not paging): in the pr_gaffe windows (goal: each
    noticed) and elsewhere, per brand-month of coverage (goal: at most one on ordinary days)."""
    print("attention notices (not paging; all mentions):")
    days = 0.0
    elsewhere = 0
    for name, notices in sorted(noticed.items()):
        days += (max(data[name]) - coverage_start(name, data[name])).total_seconds() / 86400
        for notice in notices:
            inside = [
                w
                for w in windows
                if w["airline_in_data"] == name
                and datetime.fromisoformat(w["start_utc"]).replace(tzinfo=UTC) - timedelta(hours=1)
                <= notice.opened_at
                <= datetime.fromisoformat(w["end_utc"]).replace(tzinfo=UTC)
            ]
            elsewhere += not inside
            where = f"in {inside[0]['kind']} window: {inside[0]['label'][:50]}" if inside else "outside every window"
            print(
                f"  {name:<16}{notice.opened_at:%m-%d %H:%M} UTC  {notice.observed:.0f} vs {notice.expected:.1f} "
                f"in {notice.window_minutes} min, {where}"
            )
    for w in windows:
        if w["kind"] == "pr_gaffe":
            start = datetime.fromisoformat(w["start_utc"]).replace(tzinfo=UTC)
            hits = [n for n in noticed[w["airline_in_data"]] if start - timedelta(hours=1) <= n.opened_at]
            delay = f"noticed {(hits[0].opened_at - start).total_seconds() / 60:+.0f} min" if hits else "not noticed"
            print(f"  pr_gaffe {w['airline_in_data']} {start:%m-%d %H:%M}: {delay}")
    months = days / 30.4
    print(
        f"  outside the labelled windows: {elsewhere} in {days:.1f} brand-days of coverage "
        f"({elsewhere / months:.1f} per brand-month; goal at most 1)"
    )


if __name__ == "__main__":
    main()
