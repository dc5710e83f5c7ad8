"""Alert emails: subject, plain-text and HTML parts, the 48-hour chart inline (multipart/related).

Post text, author names and drivers are written by strangers: Jinja2 autoescapes every value in the HTML,
links are kept only when they are http(s), text is stripped of control and bidi-override characters and
bounded, and the subject is one line (the email package refuses CR/LF in headers as a second guard).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from groundswell.domain.alerting.notices import AlertKind, Notice, local_time, window_label
from groundswell.domain.detection.incidents import CURRENT_MINUTES

if TYPE_CHECKING:
    from jinja2 import Environment

POST_CHARS = 280
SUBJECT_CHARS = 140
SEVERITY_COLOURS = {1: "#2e86c1", 2: "#d4ac0d", 3: "#e67e22", 4: "#c0392b"}
SEVERITY_WORDS = {1: "watch", 2: "elevated", 3: "high", 4: "critical"}
_KIND_TITLE = {
    AlertKind.OPEN: "Crisis alert",
    AlertKind.ESCALATE: "Getting worse",
    AlertKind.REMINDER: "Reminder",
    AlertKind.RESOLVED: "All clear",
    AlertKind.TAKEN: "Taken",
    AlertKind.ATTENTION: "Unusual attention",
}
ATTENTION_NOTE = "a notice, not a page: negative posts are not unusual (yet); a crisis alert follows if they are"


def safe_text(text: str, limit: int) -> str:
    """Untrusted text without control, format (bidi, zero-width) or private-use characters, at most ``limit``."""
    kept = "".join(
        c if c in "\n " or unicodedata.category(c)[0] not in "CZ" else " "
        for c in text
        if unicodedata.category(c) not in {"Cf", "Co", "Cs", "Cn"}
    )
    kept = re.sub(r"[ \t]+", " ", kept).strip()
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def safe_link(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (no javascript:, data: or relative links)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc and " " not in url else None


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    charts: dict[str, bytes]  # content id -> PNG

    def mime(self, *, sender: str, to: str, domain: str = "groundswell.alerts") -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = sender
        message["To"] = to
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        html_part: EmailMessage = message.get_payload()[1]  # type: ignore[index,assignment]
        for content_id, png in self.charts.items():
            html_part.add_related(
                png, maintype="image", subtype="png", cid=f"<{content_id}>", filename=f"{content_id.split('@')[0]}.png"
            )
        return message


def subject(notices: Sequence[Notice]) -> str:
    """``[SEV3] Acme Air: 84 negative posts in 15m, 9x normal (outage, refund)``: one line, bounded."""
    top = max(notices, key=lambda n: n.incident.severity)
    if len(notices) > 1:
        brands = ", ".join(dict.fromkeys(n.brand_label for n in notices))
        line = f"[SEV{top.incident.severity}] {len(notices)} Groundswell alerts: {brands}"
    else:
        incident = top.incident
        what = ", ".join(top.incident.drivers[:2])
        if top.kind is AlertKind.RESOLVED:
            line = f"[All clear] {top.brand_label}: negative mentions back to normal"
        elif top.kind is AlertKind.TAKEN:
            line = f"[SEV{incident.severity}] {top.brand_label}: {top.note}"
        elif incident.kind == "attention":
            share = top.facts.negative_share
            line = (
                f"[Attention] {top.brand_label}: {incident.observed:.0f} posts in "
                f"{window_label(incident.window_minutes)}, {incident.ratio:.0f}x usual"
                + (f", {share:.0%} negative" if share is not None else "")
            )
            line += f" ({what})" if what else ""
        else:
            word = {AlertKind.ESCALATE: "Worse: ", AlertKind.REMINDER: "Reminder: "}.get(top.kind, "")
            line = (
                f"[SEV{incident.severity}] {word}{top.brand_label}: {incident.observed:.0f} negative posts in "
                f"{window_label(incident.window_minutes)}, {incident.ratio:.0f}x normal"
            )
            line += f" ({what})" if what else ""
    return safe_text(" ".join(line.split()), SUBJECT_CHARS)


def compose(
    notices: Sequence[Notice],
    *,
    links: dict[str, str],
    timezone: str,
    charts: dict[str, bytes] | None = None,
    reason: str = "",
) -> Email:
    """The email for ``notices`` (one or several incidents). ``links``: incident id -> acknowledge/snooze page;
    ``charts``: incident id -> PNG. ``reason``: why this recipient gets it (the footer)."""
    charts = charts or {}
    content_ids = {incident_id: f"chart-{i}@groundswell" for i, incident_id in enumerate(charts)}
    context = {
        "sections": [
            incident_section(n, links.get(n.incident.id), timezone, content_ids.get(n.incident.id)) for n in notices
        ],
        "reason": safe_text(reason, 300),
    }
    text = environment().get_template("alert.txt").render(context)
    html = environment().get_template("alert.html").render(context)
    return Email(subject(notices), text, html, {content_ids[i]: png for i, png in charts.items()})


def _right_now(notice: Notice, timezone: str) -> str:
    """The last two hours as of sending (negatives; all mentions for an attention notice), against the same
    hours of the previous days; the detector's numbers of the incident's last transition when the counts could
    not be read."""
    facts, incident = notice.facts, notice.incident
    if incident.kind == "attention":
        recent, usual = facts.recent_total, facts.recent_total_usual
    else:
        recent, usual = facts.recent_negative, facts.recent_usual
    if recent is None or facts.as_of is None:
        return (
            f"{incident.current_observed:.0f} in the last {window_label(CURRENT_MINUTES)} "
            f"({incident.current_ratio:.1f}x expected)"
        )
    than = f"{recent / usual:.1f}x the usual {usual:.0f}" if usual else "no usual level yet"
    return f"{recent} in the last 2h to {local_time(facts.as_of, timezone)} ({than})"


def incident_section(
    notice: Notice, link: str | None, timezone: str, chart_id: str | None, *, peak_may_be_older: bool = False
) -> dict[str, Any]:
    """The values the templates show for one incident. ``peak_may_be_older``: the detector republishes a peak
    only when it is 1.5x the last, so one shown later than its transition (a reminder, the incident page) is
    labelled as last reported."""
    incident, facts = notice.incident, notice.facts
    attention = incident.kind == "attention"
    rows = [
        (
            "All posts" if attention else "Negative posts",
            f"{incident.observed:.0f} in {window_label(incident.window_minutes)} "
            f"(expected {incident.expected:.1f}, {incident.ratio:.1f}x)",
        ),
        ("Right now", _right_now(notice, timezone)),
    ]
    if incident.attention_from is not None:
        rows.append(
            ("Began as", f"unusual attention at {local_time(incident.attention_from, timezone, with_day=True)}")
        )
    if incident.baseline_days:
        days = round(incident.baseline_days)
        rows.append(("Expected from", f"the usual for the time of day, learned over {days} day{'s' * (days != 1)}"))
    if facts.negative_share is not None:
        usual = f" (usually {facts.usual_share:.0%})" if facts.usual_share is not None else ""
        rows.append(("Negative share, last hour", f"{facts.negative_share:.0%}{usual}"))
    if facts.peer_share is not None:
        usual = f" (usually {facts.peer_usual:.0%})" if facts.peer_usual is not None else ""
        others = f"{facts.peers} peer{'s' * (facts.peers != 1)}"
        rows.append(
            (
                "Share among peers",
                f"{facts.peer_share:.0%} of the negative posts about it and {others}, last hour{usual}",
            )
        )
    if facts.growth is not None and not attention:
        rows.append(("Growth", f"{facts.growth:.1f}x the hour before ({facts.last_hour_negative} in the last hour)"))
    rows.append(("Since", local_time(incident.since, timezone, with_day=True)))
    if incident.resolved_at is not None:
        rows.append(("Back to normal", local_time(incident.resolved_at, timezone, with_day=True)))
        minutes = max(5, round((incident.resolved_at - incident.since).total_seconds() / 60))
        rows.append(("Lasted", window_label(minutes)))
    posts = " posts" if attention else ""
    peak = f"{incident.observed:.0f}{posts} in {window_label(incident.window_minutes)} ({incident.ratio:.1f}x)"
    older = peak_may_be_older or notice.kind is AlertKind.REMINDER
    label = "Peak as last reported" if older else "Peak"
    rows.append((label, f"{peak}, {local_time(incident.peak_at, timezone, with_day=True)}"))
    sources = [
        f"{safe_text(name, 30)} {spike:.0%} of the spike (usually {base:.0%})"
        for name, spike, base in incident.sources[:4]
    ]
    samples = [
        {
            "author": safe_text(m.author, 60),
            "time": local_time(m.created_at, timezone, with_day=True),
            "engagement": m.engagement,
            "text": safe_text(m.text, POST_CHARS),
            "link": safe_link(m.url),
            "source": safe_text(m.source, 20),
        }
        for m in notice.samples
    ]
    return {
        "title": _KIND_TITLE[notice.kind],
        "resolved": notice.kind is AlertKind.RESOLVED,
        # nothing left to acknowledge, or nothing to acknowledge (an attention notice pages no one)
        "view_only": notice.kind in (AlertKind.RESOLVED, AlertKind.TAKEN) or attention,
        "brand": safe_text(notice.brand_label, 100),
        "grade": "" if notice.kind is AlertKind.RESOLVED or attention else grade(incident.severity),
        "severity": incident.severity,
        "severity_word": SEVERITY_WORDS[incident.severity],
        "attention": attention,
        "colour": "#27ae60" if notice.kind is AlertKind.RESOLVED else SEVERITY_COLOURS[incident.severity],
        "note": safe_text(notice.note or (ATTENTION_NOTE if attention else ""), 120),
        "rows": rows,
        "drivers": [safe_text(d, 40) for d in incident.drivers[:8]],
        "sources": sources,
        "samples": samples,
        "chart": chart_id,
        "link": safe_link(link),
        "limited_history": incident.limited_history,
        "incident_id": safe_text(incident.id, 120),
    }


def grade(severity: int) -> str:
    return f"severity {severity} ({SEVERITY_WORDS[severity]})"


@cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
