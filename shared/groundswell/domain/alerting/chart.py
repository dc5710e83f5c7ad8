"""The 48-hour chart in alert emails: negative mentions per hour against the usual range for that hour.

The usual range is the 10th-90th percentile (and median) of the same hour of day over the 7 days before the
charted window, from the stored 5-minute buckets: what a PR lead reads as "normal for this time of day".
Drawn with Pillow alone (``benchmarks/cold_start.py`` compares it with the matplotlib version it replaced).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from groundswell.domain.models import Bucket

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
    partial_minutes: int = 0  # the last hour is only this far through (0: complete): drawn as "so far"
    counted: str = "negative mentions"  # what ``negative`` counts (an attention notice's chart: all mentions)


def hourly_series(buckets: Sequence[Bucket], now: datetime, *, every_mention: bool = False) -> HourlySeries:
    """Hourly negatives for the ``HOURS`` up to ``now`` and the usual range per hour from the week before. The
    hour in progress is the last one, marked partial (its complete 5-minute buckets so far), so a growing swell
    does not end in a drop and one that began minutes ago is on the chart. ``every_mention``: all mentions
    instead of the negatives (an attention notice's chart)."""
    floor = now.replace(minute=0, second=0, microsecond=0)
    partial = int((now - floor).total_seconds() // 300 * 5)
    end = floor + timedelta(hours=1) if partial else floor
    start = end - timedelta(hours=HOURS)
    history_start = start - timedelta(days=HISTORY_DAYS)
    per_hour: dict[datetime, int] = {}
    first_seen: datetime | None = None
    for bucket in buckets:
        hour = bucket.start.replace(minute=0, second=0, microsecond=0)
        per_hour[hour] = per_hour.get(hour, 0) + (bucket.total if every_mention else bucket.negative)
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
    negative = [per_hour.get(h, 0) for h in hours]
    counted = "all mentions" if every_mention else "negative mentions"
    return HourlySeries(hours, negative, low, median, high, days, partial, counted)


def _quantile(values: Sequence[int], q: float) -> float:
    if not values:
        return float("nan")
    position = q * (len(values) - 1)
    below = int(position)
    above = min(below + 1, len(values) - 1)
    return values[below] + (values[above] - values[below]) * (position - below)


# Drawn at twice the size it is shown (the email shows it at most 560 px wide), then halved: smooth lines and
# text sized for a phone held at arm's length.
WIDTH, HEIGHT = 1120, 500
SCALE = 2
LEFT, RIGHT, TOP, BOTTOM = 96, 36, 76, 128
NEGATIVE, BAND, MEDIAN, GRID, INK, FAINT = "#c0392b", "#c9d7e8", "#7f99b8", "#e6e6e6", "#1c2833", "#6b6e70"
PARTIAL = "#e8a89f"  # the hour in progress


def render_png(series: HourlySeries, *, title: str, timezone: str, opened_at: datetime | None = None) -> bytes:
    """The chart as PNG bytes (1120 x 500 px, shown at up to 560 px: sharp on phone screens), drawn with Pillow
    alone (no matplotlib: ~125 MB less in the notify function and a faster first chart)."""
    from PIL import Image, ImageDraw, ImageFont

    zone = ZoneInfo(timezone)
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), "white")
    draw = ImageDraw.Draw(image)

    def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return ImageFont.load_default(size=size * SCALE)

    left, right, top, bottom = LEFT * SCALE, (WIDTH - RIGHT) * SCALE, TOP * SCALE, (HEIGHT - BOTTOM) * SCALE
    count = len(series.hours)
    finite = [v for v in (*series.negative, *series.high) if v == v]  # NaN-free
    ticks = _ticks(max(finite, default=0.0))
    top_value = ticks[-1]

    def x(i: float) -> float:
        return left + (right - left) * i / max(count, 1)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    draw.text((left, 18 * SCALE), _cut(title, 60), fill=INK, font=font(30))
    for tick in ticks:
        draw.line([(left, y(tick)), (right, y(tick))], fill=GRID, width=SCALE)
        draw.text((left - 12 * SCALE, y(tick)), _number(tick), fill=FAINT, font=font(24), anchor="rm")
    if series.history_days:
        for i in range(count):
            low, high = series.low[i], series.high[i]
            if low == low and high == high:
                draw.rectangle([x(i), y(high), x(i + 1), y(low)], fill=BAND)
        _step(draw, [x(i) for i in range(count + 1)], [y(v) for v in series.median], MEDIAN, 2 * SCALE)
    drawn = series.negative[:-1] if series.partial_minutes else series.negative
    _step(draw, [x(i) for i in range(len(drawn) + 1)], [y(v) for v in drawn], NEGATIVE, 5 * SCALE)
    if series.partial_minutes:  # the hour in progress: its count so far, lighter, and said so
        last, value = count - 1, series.negative[-1]
        draw.line([(x(last), y(value)), (x(last + 1), y(value))], fill=PARTIAL, width=5 * SCALE)
        draw.text(
            (x(count), y(value) - 10 * SCALE),
            f"{series.partial_minutes} min so far",
            fill=FAINT,
            font=font(20),
            anchor="rb",
        )
    if opened_at is not None and series.hours:
        at = (opened_at - series.hours[0]).total_seconds() / 3600
        if 0 <= at <= count:
            _dashed(draw, x(at), top, bottom)
    draw.line([(left, bottom), (right, bottom)], fill=FAINT, width=SCALE)
    for i, hour in enumerate(series.hours):
        local = hour.astimezone(zone)
        if local.hour % 12 == 0:
            draw.line([(x(i), bottom), (x(i), bottom + 8 * SCALE)], fill=FAINT, width=SCALE)
            label = local.strftime("%a %H:%M")
            if x(i) + 70 * SCALE < right + RIGHT * SCALE:  # a label cut at the edge is left out
                draw.text((x(i), bottom + 12 * SCALE), label, fill=FAINT, font=font(24), anchor="mt")
    _legend(draw, left, bottom + 62 * SCALE, series.history_days > 0, font(24), series.counted)
    output = io.BytesIO()
    image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).save(output, format="PNG", optimize=True)
    return output.getvalue()


def _step(draw: Any, xs: list[float], ys: list[float], colour: str, width: int) -> None:
    """A stepped line ("post": each value holds until the next x); NaN values leave gaps."""
    points: list[tuple[float, float]] = []
    for i, value in enumerate(ys):
        if value != value:
            if len(points) > 1:
                draw.line(points, fill=colour, width=width, joint="curve")
            points = []
            continue
        points += [(xs[i], value), (xs[i + 1], value)]
    if len(points) > 1:
        draw.line(points, fill=colour, width=width, joint="curve")


def _dashed(draw: Any, at: float, top: float, bottom: float) -> None:
    dash = 10 * SCALE
    position = top
    while position < bottom:
        draw.line([(at, position), (at, min(position + dash, bottom))], fill="#555555", width=2 * SCALE)
        position += 2 * dash


def _legend(draw: Any, left: float, top: float, has_range: bool, font: Any, counted: str) -> None:
    items: list[tuple[str | None, str]] = [(NEGATIVE, f"{counted}/hour")]
    items += [(BAND, "usual range"), (MEDIAN, "usual (median)")] if has_range else [(None, "(no usual range yet)")]
    position = left
    for colour, label in items:
        if colour is not None:
            draw.rectangle([position, top - 8 * SCALE, position + 28 * SCALE, top + 8 * SCALE], fill=colour)
            position += 36 * SCALE
        draw.text((position, top), label, fill=INK, font=font, anchor="lm")
        position += draw.textlength(label, font=font) + 30 * SCALE


def _ticks(largest: float) -> list[float]:
    """Round tick values from 0 to just above ``largest`` (1, 2 or 5 times a power of ten apart)."""
    if largest <= 0:
        return [0.0, 1.0]
    raw = largest / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [step * i for i in range(int(largest // step) + 2)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:g}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
