"""The matplotlib chart Groundswell drew until 2026-12: the baseline ``benchmarks.cold_start`` and the e2e
screenshot compare the Pillow renderer (``groundswell.domain.alerting.chart``) with. Not shipped."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from groundswell.domain.alerting.chart import HourlySeries


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
