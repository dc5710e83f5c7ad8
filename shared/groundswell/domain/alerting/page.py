"""The incident page behind an alert's signed link: what a PR lead needs on a phone at 3 a.m. to decide.

Brand, severity and status; the numbers as of now; the 48-hour chart; the drivers, sources and sample posts
(with a link to reply on the platform, more on demand); the incident's timeline (opened, escalated, who was
told on which channel and when, who acknowledged); and the actions as buttons of a POST form. GET never acts
(mail scanners prefetch links). No JavaScript; every value is autoescaped by Jinja2 and bounded like the
email's; the chart is inline (a ``data:`` image, allowed by the page's Content-Security-Policy).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from groundswell.domain.alerting.email import environment, grade, incident_section, safe_text
from groundswell.domain.alerting.notices import AlertKind, Notice, local_time

SNOOZE_HOURS = (1, 2, 4)


@dataclass(frozen=True)
class Moment:
    """One line of an incident's timeline."""

    at: datetime
    what: str


@dataclass(frozen=True)
class IncidentPage:
    notice: Notice  # with its facts (as of now) and sample posts
    status: str  # "open", "acknowledged by Dana", "resolved by Dana", "all clear", ...
    timeline: Sequence[Moment]
    chart: bytes | None = None  # PNG
    actionable: bool = True  # acknowledge and snooze still apply (not after the all clear or a verdict)
    verdict_allowed: bool = True  # "resolved" / "not a crisis" not given yet (allowed after the all clear)
    more_posts: bool = False  # a "more posts" link is offered


def render(pages: Sequence[IncidentPage], *, viewer: str, timezone: str, more_url: str, banner: str = "") -> str:
    """The page for one link (one incident, or the several one message was about)."""
    sections = [_context(page, timezone) for page in pages]
    return (
        environment()
        .get_template("page.html")
        .render(
            sections=sections,
            viewer=safe_text(viewer, 80),
            banner=safe_text(banner, 300),
            more_url=more_url,
            snooze_hours=SNOOZE_HOURS,
            timezone=timezone,
            grade=grade,
        )
    )


def facts_section(notice: Notice, timezone: str) -> dict[str, Any]:
    """An incident's values as the page (and ``groundswell incidents``) show them, between its transitions:
    until the all clear, its peak is the one last reported."""
    return incident_section(notice, None, timezone, None, peak_may_be_older=notice.kind is not AlertKind.RESOLVED)


def _context(page: IncidentPage, timezone: str) -> dict[str, Any]:
    context = facts_section(page.notice, timezone)
    chart = base64.b64encode(page.chart).decode("ascii") if page.chart else None
    return {
        **context,
        "status": safe_text(page.status, 120),
        "chart_data": chart,
        "timeline": [
            {"at": local_time(m.at, timezone, with_day=True), "what": safe_text(m.what, 200)} for m in page.timeline
        ],
        "actionable": page.actionable,
        "verdict_allowed": page.verdict_allowed,
        "more_posts": page.more_posts,
    }
