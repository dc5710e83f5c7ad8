"""The incident page in a real browser (headless Chromium) at phone and desktop width, under the page's own
Content-Security-Policy: the severity band, the actions within the first screen on a phone, the chart (an
inline image the policy must allow), the samples beside the chart on a desktop, nothing wider than the
phone, and hostile post text as text. Screenshots are kept in build/incident-page-{375,1280}.png."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from groundswell.domain.alerting.chart import hourly_series, render_png
from groundswell.domain.alerting.page import IncidentPage, Moment, render
from groundswell.domain.models import Bucket
from tests.conftest import ROOT
from tests.e2e.conftest import run_chromium
from tests.e2e.test_email_screenshot import _near
from tests.unit.test_alert_composition import email_notice

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'"


def _page(tmp_path: Path) -> Path:
    from functions.alert_actions.app import HEADERS

    assert HEADERS["Content-Security-Policy"].startswith(CSP)  # the policy tested here is the one served
    buckets = [
        Bucket(brand="acme-air", start=NOW - timedelta(minutes=5 * i), total=20, negative=(60 if i < 12 else 3))
        for i in range(12 * 24 * 9)
    ]
    chart = render_png(hourly_series(buckets, NOW), title="Acme Air", timezone="America/New_York")
    notice = email_notice()
    hostile = notice.samples[0].model_copy(update={"author": '"><img src=x onerror=alert(1)>'})
    notice = notice.model_copy(update={"samples": (hostile, *notice.samples[1:])})
    timeline = [
        Moment(NOW - timedelta(minutes=55), "Opened at severity 3 (84 negative posts in 15m, 9.1x)"),
        Moment(NOW - timedelta(minutes=54), "Texted On-call (sms): the alert"),
        Moment(NOW - timedelta(minutes=54), "Emailed Desk (email): the alert"),
    ]
    html = render(
        [IncidentPage(notice=notice, status="Open, not acknowledged (55m)", timeline=timeline, chart=chart)],
        viewer="On-call",
        timezone="America/New_York",
        more_url="?more=1",
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    page = tmp_path / "page.html"
    page.write_text(html.replace("<head>", "<head>" + meta, 1), encoding="utf-8")
    return page


def _chromium(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_chromium(chromium, tmp_path / "profile", *args)


def _shot(chromium: str, tmp_path: Path, page: Path, width: int, height: int) -> object:
    from PIL import Image

    shot = ROOT / "build" / f"incident-page-{width}.png"
    shot.parent.mkdir(exist_ok=True)
    _chromium(chromium, tmp_path, f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (width, height)
    return image


def test_the_incident_page_reads_on_a_phone(chromium: str, tmp_path: Path) -> None:
    image = _shot(chromium, tmp_path, _page(tmp_path), 375, 1800)
    pixels = image.load()  # type: ignore[attr-defined]
    orange, ink, red = (0xE6, 0x7E, 0x22), (0x1C, 0x28, 0x33), (0xC0, 0x39, 0x2B)
    assert all(_near(pixels[x, 12], orange) for x in range(0, 375, 25))  # the severity band, edge to edge
    # the primary action (a dark button) within the first screen of a phone (about 700 px)
    button_rows = [y for y in range(0, 700) if sum(_near(pixels[x, y], ink, 10) for x in range(0, 375)) > 60]
    assert button_rows, "no Acknowledge button in the first screen"
    # the chart's red series is drawn: the inline image passed the Content-Security-Policy
    assert sum(1 for x in range(0, 375, 2) for y in range(700, 1800, 2) if _near(pixels[x, y], red)) > 30
    # nothing wider than the phone: the right-most columns are the page's white (or the band) all the way down
    edge = [pixels[x, y] for x in range(369, 375) for y in range(40, 1800, 5)]
    assert all(_near(p, (0xFF, 0xFF, 0xFF), 6) or _near(p, (0xF4, 0xF5, 0xF7), 6) for p in edge)


def test_the_incident_page_uses_the_width_of_a_desktop(chromium: str, tmp_path: Path) -> None:
    image = _shot(chromium, tmp_path, _page(tmp_path), 1280, 1100)
    pixels = image.load()  # type: ignore[attr-defined]
    red, orange = (0xC0, 0x39, 0x2B), (0xE6, 0x7E, 0x22)
    left, right = range(272, 640), range(640, 1008)  # the 736 px column, centred: chart left, samples right
    assert sum(1 for x in left for y in range(300, 1100, 3) if _near(pixels[x, y], red)) > 30
    assert sum(1 for x in right for y in range(300, 1100, 2) if _near(pixels[x, y], orange)) > 20  # post borders


def test_hostile_post_text_stays_text_in_the_browser(chromium: str, tmp_path: Path) -> None:
    dom = _chromium(chromium, tmp_path, "--dump-dom", _page(tmp_path).as_uri()).stdout
    assert dom.count("<img") == 1  # the chart alone: the author's "<img onerror>" is text
    assert "<script" not in dom and "javascript:" not in dom
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in dom
    assert "&lt;Air&gt;" in dom  # the brand's own label is escaped too
