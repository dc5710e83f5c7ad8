"""The 48-hour chart in alert emails: negative mentions per hour against the usual range for that hour.

The usual range is the 10th-90th percentile (and median) of the same hour of day over the 7 days before the
charted window, from the stored 5-minute buckets: what a PR lead reads as "normal for this time of day".
Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, about 0.3 s to import).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from groundswell.models import Bucket

HOURS = 48
HISTORY_DAYS = 7


@dataclass(frozen=True)
class HourlySeries:
    hours: list[datetime]  # hour starts, UTC
    negative: list[int]
    low: list[float]
    median: list[float]
    high: list[float]
    history_days: int  # days of history the range is based on (fewer for a new brand)


def hourly_series(buckets: Sequence[Bucket], now: datetime) -> HourlySeries:
    """Hourly negatives for the ``HOURS`` before ``now`` and the usual range per hour from the week before."""
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=HOURS)
    history_start = start - timedelta(days=HISTORY_DAYS)
    per_hour: dict[datetime, int] = {}
    first_seen: datetime | None = None
    for bucket in buckets:
        hour = bucket.start.replace(minute=0, second=0, microsecond=0)
        per_hour[hour] = per_hour.get(hour, 0) + bucket.negative
        if bucket.total and (first_seen is None or bucket.start < first_seen):
            first_seen = bucket.start
    hours = [start + timedelta(hours=i) for i in range(HOURS)]
    history_from = max(history_start, (first_seen or start).replace(minute=0, second=0, microsecond=0))
    low, median, high = [], [], []
    for hour in hours:
        earlier = [hour - timedelta(days=d) for d in range(1, HISTORY_DAYS + 1)]
        same_hour = sorted(per_hour.get(moment, 0) for moment in earlier if history_from <= moment < start)
        low.append(_quantile(same_hour, 0.1))
        median.append(_quantile(same_hour, 0.5))
        high.append(_quantile(same_hour, 0.9))
    days = max(0, min(HISTORY_DAYS, (start - history_from).days))
    return HourlySeries(hours, [per_hour.get(h, 0) for h in hours], low, median, high, days)


def _quantile(values: Sequence[int], q: float) -> float:
    if not values:
        return float("nan")
    position = q * (len(values) - 1)
    below = int(position)
    above = min(below + 1, len(values) - 1)
    return values[below] + (values[above] - values[below]) * (position - below)


def render_png(series: HourlySeries, *, title: str, timezone: str, opened_at: datetime | None = None) -> bytes:
    """The chart as PNG bytes (600 x 260 px: readable in a phone's mail app)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure

    zone = ZoneInfo(timezone)
    figure = Figure(figsize=(6.0, 2.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    hours = date2num(series.hours)
    if series.history_days:
        axes.fill_between(hours, series.low, series.high, step="post", color="#c9d7e8", label="usual range")
        axes.step(hours, series.median, where="post", color="#7f99b8", linewidth=1, label="usual (median)")
    else:  # the range needs same-hour data from before the charted 48 hours
        axes.plot([], [], " ", label="(no usual range yet: too little history)")
    axes.step(hours, series.negative, where="post", color="#c0392b", linewidth=2, label="negative mentions/hour")
    if opened_at is not None:
        axes.axvline(float(date2num(opened_at)), color="#555555", linestyle="--", linewidth=1)
    axes.set_title(title, fontsize=10, loc="left")
    axes.xaxis.set_major_formatter(DateFormatter("%a %H:%M", tz=zone))
    axes.tick_params(labelsize=8)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", color="#eeeeee")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    figure.tight_layout()
    output = io.BytesIO()
    figure.savefig(output, format="png", metadata={"Software": None})
    return output.getvalue()
