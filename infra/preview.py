"""``groundswell alerts preview``: what a brand's recipients would receive, rendered into files offline.

Uses the brand's real config (label, time zone, recipients) and an illustrative incident with sample posts, so
a PR lead can check the SMS texts, the email (.eml and .html) and its chart before going live. No AWS calls.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from groundswell.domain.alerting.chart import hourly_series, render_png
from groundswell.domain.alerting.email import compose
from groundswell.domain.alerting.gsm import segments
from groundswell.domain.alerting.notices import AlertKind, Facts, IncidentView, Notice
from groundswell.domain.alerting.sms import incident_text
from groundswell.domain.models import Brand, Bucket, Mention, Sentiment

EXAMPLE_LINK = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/a/Xk3f9QpLAbCdEfGhIjKl"


def render_previews(brand: Brand, output: Path, now: datetime | None = None) -> list[Path]:
    """Writes sms-<kind>.txt, email.eml, email.html and chart.png for an illustrative incident of ``brand``, and
    attention-email.html for an attention notice (email and chat only: it never goes by SMS)."""
    now = now or datetime.now(UTC).replace(second=0, microsecond=0)
    opened = now - timedelta(minutes=40)
    incident = IncidentView(
        id=f"{brand.name}:{opened:%Y%m%dT%H%M}",
        brand=brand.name,
        opened_at=opened,
        severity=3,
        pvalue=1e-9,
        window_minutes=15,
        observed=84,
        expected=9.2,
        peak_at=now - timedelta(minutes=10),
        current_observed=260,
        current_expected=72.0,
        drivers=("outage", "refund", "app"),
        sources=(("bluesky", 0.6, 0.3),),
    )
    posts = [
        "The app has been down for an hour and support is not answering. Outage again?",
        "Still waiting on my refund after the outage, third call today",
        "Can't log in to the app. At all.",
    ]
    samples = tuple(
        Mention(
            source="bluesky",
            id=f"example-{i}",
            brand=brand.name,
            text=text,
            author=f"example{i}",
            created_at=opened + timedelta(minutes=3 * i),
            likes=40 - 10 * i,
            url=f"https://bsky.app/profile/example{i}/post/{i}",
            sentiment=Sentiment.NEGATIVE,
        )
        for i, text in enumerate(posts)
    )
    notice = Notice(
        kind=AlertKind.OPEN,
        incident=incident,
        brand_label=brand.label,
        samples=samples,
        facts=Facts(negative_share=0.58, usual_share=0.2, growth=3.4, last_hour_negative=160),
    )
    timezone = next((r.timezone for r in brand.recipients), brand.timezone)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in AlertKind:
        if kind is AlertKind.ATTENTION:
            continue
        view = incident.model_copy(update={"resolved_at": now}) if kind is AlertKind.RESOLVED else incident
        note = "taken by Dana" if kind is AlertKind.TAKEN else notice.note
        text = incident_text(
            notice.model_copy(update={"kind": kind, "incident": view, "note": note}), EXAMPLE_LINK, timezone
        )
        path = output / f"sms-{kind.value}.txt"
        path.write_text(f"{text}\n\n({len(text)} characters, {segments(text)} segment(s))\n", encoding="utf-8")
        written.append(path)
    buckets = [
        Bucket(
            brand=brand.name,
            start=now - timedelta(minutes=5 * (i + 1)),
            total=12,
            negative=(14 if i < 8 else 2 + (i // 12) % 3),
        )
        for i in range(12 * 24 * 9)
    ]
    chart = render_png(
        hourly_series(buckets, now),
        title=f"{brand.label}: negative mentions per hour",
        timezone=timezone,
        opened_at=opened,
    )
    email = compose(
        [notice],
        links={incident.id: EXAMPLE_LINK},
        timezone=timezone,
        charts={incident.id: chart},
        reason="This is a preview with an illustrative incident.",
    )
    noticed = incident.model_copy(
        update={
            "id": f"{incident.id}:attention",
            "kind": "attention",
            "severity": 1,
            "observed": 109,
            "expected": 26.2,
            "window_minutes": 85,
            "drivers": ("fleek", "fleet", "delete"),
        }
    )
    attention = compose(
        [
            notice.model_copy(
                update={
                    "kind": AlertKind.ATTENTION,
                    "incident": noticed,
                    "facts": Facts(negative_share=0.26, usual_share=0.6),
                }
            )
        ],
        links={noticed.id: EXAMPLE_LINK},
        timezone=timezone,
        reason="This is a preview with an illustrative attention notice.",
    )
    files = {
        "attention-email.html": attention.html.encode(),
        "email.eml": bytes(email.mime(sender="alerts@example.com", to="you@example.com")),
        "email.html": email.html.replace("cid:chart-0@groundswell", "chart.png").encode(),
        "chart.png": chart,
    }
    for name, data in files.items():
        (output / name).write_bytes(data)
        written.append(output / name)
    return written
