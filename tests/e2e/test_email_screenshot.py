"""The alert email rendered by a real browser (headless Chromium): it must fit a 640 px window, show the
severity band, the chart and the sample posts. The screenshot is kept in build/email-screenshot.png."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from groundswell.domain.alerting.chart import hourly_series, render_png
from groundswell.domain.alerting.email import compose
from groundswell.domain.models import Bucket
from tests.conftest import ROOT
from tests.e2e.conftest import run_chromium
from tests.unit.test_alert_composition import LINK, email_notice

pytestmark = pytest.mark.e2e
WIDTH, HEIGHT = 640, 1500


def test_alert_email_renders_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    from PIL import Image

    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    buckets = [
        Bucket(
            brand="acme-air",
            start=now - timedelta(minutes=5 * i),
            total=20,
            negative=(60 if i < 12 else 2 + (i // 12) % 3),
        )
        for i in range(12 * 24 * 9)
    ]
    png = render_png(
        hourly_series(buckets, now), title="Acme Air", timezone="America/New_York", opened_at=now - timedelta(hours=1)
    )
    notice = email_notice()
    email = compose(
        [notice],
        links={notice.incident.id: LINK},
        timezone="America/New_York",
        charts={notice.incident.id: png},
        reason="You are PR on-call.",
    )
    data_uri = "data:image/png;base64," + base64.b64encode(png).decode()
    page = tmp_path / "email.html"
    page.write_text(email.html.replace("cid:chart-0@groundswell", data_uri), encoding="utf-8")
    shot = ROOT / "build" / "email-screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    run_chromium(
        chromium, tmp_path / "profile", f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", page.as_uri()
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    pixels = image.load()
    assert pixels is not None
    # the severity band (severity 3: #e67e22) across the top of the message
    assert any(_near(pixels[x, 20], (0xE6, 0x7E, 0x22)) for x in range(40, 600))
    # nothing spills over the right edge: the last columns are the page background all the way down
    assert all(_near(pixels[x, y], (0xF4, 0xF5, 0xF7)) for x in range(WIDTH - 8, WIDTH) for y in range(0, HEIGHT, 7))
    # the chart's red series is drawn (the inline image loaded and rendered)
    reds = sum(1 for x in range(0, WIDTH, 2) for y in range(200, 700, 2) if _near(pixels[x, y], (0xC0, 0x39, 0x2B)))
    assert reds > 50
    # no markup from a post was rendered as markup: the literal escaped text is there instead
    assert "&lt;script&gt;" in email.html


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_the_pillow_chart_reads_as_well_as_the_matplotlib_one_on_a_phone(chromium: str, tmp_path: Path) -> None:
    """Both renderers side by side in a 375 px wide page, as a phone's mail app shows the chart (the screenshot
    is kept in build/chart-comparison.png to look at). The Pillow chart must show its red series, the usual band
    and text at least as tall as matplotlib's."""
    from PIL import Image

    from benchmarks.chart_matplotlib import render_png as render_matplotlib

    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    buckets = [
        Bucket(
            brand="acme-air",
            start=now - timedelta(minutes=5 * i),
            total=20,
            negative=(30 if i < 24 else 2 + (i // 12) % 5),
        )
        for i in range(12 * 24 * 9)
    ]
    series = hourly_series(buckets, now)
    charts = {
        name: render(
            series,
            title="Acme Air: negative mentions per hour",
            timezone="America/New_York",
            opened_at=now - timedelta(hours=2),
        )
        for name, render in (("pillow", render_png), ("matplotlib", render_matplotlib))
    }
    images = "".join(
        f'<p style="margin:8px 0 2px 0;font:14px sans-serif">{name}</p><img id="{name}" style="width:100%;'
        f'display:block" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        for name, png in charts.items()
    )
    page = tmp_path / "charts.html"
    body = f'<body style="margin:0;padding:0 10px;background:#fff">{images}</body>'
    page.write_text(f'<!DOCTYPE html><meta name="viewport" content="width=device-width">{body}', encoding="utf-8")
    shot = ROOT / "build" / "chart-comparison.png"
    shot.parent.mkdir(exist_ok=True)
    run_chromium(chromium, tmp_path / "profile", "--window-size=375,700", f"--screenshot={shot}", page.as_uri())
    image = Image.open(shot).convert("RGB")
    pixels = image.load()
    assert pixels is not None

    def rows_with(colour: tuple[int, int, int], top: int, bottom: int) -> int:
        return sum(1 for y in range(top, bottom) if any(_near(pixels[x, y], colour) for x in range(10, 365, 2)))

    # the Pillow chart is shown 355 x 158 px from about y = 30, matplotlib's below it from about y = 215
    red, band = (0xC0, 0x39, 0x2B), (0xC9, 0xD7, 0xE8)
    assert rows_with(red, 0, 200) >= rows_with(red, 200, 400) > 10  # the series, at least as visible
    assert rows_with(band, 0, 200) > 10  # the usual band


def test_a_chart_of_a_brand_with_no_history_says_so(tmp_path: Path) -> None:
    from PIL import Image

    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    buckets = [Bucket(brand="acme-air", start=now - timedelta(minutes=5 * i), total=5, negative=1) for i in range(60)]
    png = render_png(hourly_series(buckets, now), title="New", timezone="UTC")
    assert Image.open(io.BytesIO(png)).size == (1120, 500)
