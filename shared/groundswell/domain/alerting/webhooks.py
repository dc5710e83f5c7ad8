"""Messages in the shapes real chat and paging services accept (pure: no HTTP here).

- **Slack** incoming webhooks: Block Kit (a header, the message as ``mrkdwn``, a button to acknowledge or
  snooze) with ``text`` as the notification fallback. Post text is escaped (``&``, ``<``, ``>``) so a
  stranger's ``<!channel>`` or ``<https://x|click>`` stays text.
- **Microsoft Teams** Workflows webhooks: an Adaptive Card in a ``message`` envelope. They answer 202 to a bare
  ``{"text": ...}`` and then drop it. Markdown characters in post text are escaped.
- **Generic** webhooks: ``{"text": ...}`` plus the incidents' ids and severities.
- **PagerDuty** Events API v2: ``trigger`` / ``acknowledge`` / ``resolve`` with the incident id as ``dedup_key``.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

SLACK_HEADER_CHARS = 150
SLACK_SECTION_CHARS = 3000
TEAMS_TEXT_CHARS = 6000
PAGERDUTY_SUMMARY_CHARS = 1024
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ACTION_TITLE = "Acknowledge or snooze"
VIEW_TITLE = "View incident"  # nothing to acknowledge: an all clear, who took it, an attention notice
SEVERITY_NAMES = {1: "info", 2: "warning", 3: "error", 4: "critical"}  # PagerDuty's four


class WebhookFormat(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    GENERIC = "generic"


def format_for(url: str, chosen: str | None = None) -> WebhookFormat:
    """The recipient's chosen format, else the one its host implies."""
    if chosen:
        return WebhookFormat(chosen)
    host = (urlsplit(url).hostname or "").lower()
    if host == "hooks.slack.com":
        return WebhookFormat.SLACK
    if host.endswith((".webhook.office.com", ".logic.azure.com", ".powerplatform.com")):
        return WebhookFormat.TEAMS
    return WebhookFormat.GENERIC


def split_message(text: str) -> tuple[str, str]:
    """(title, body) of a composed plain-text message: its first two lines (what, and which brand), and the
    rest."""
    lines = text.strip().split("\n")
    return " - ".join(line.strip() for line in lines[:2] if line.strip()), "\n".join(lines[2:]).strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_escape(text: str) -> str:
    """Slack's required escaping: only ``&``, ``<`` and ``>`` are control characters in its text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(text: str, link: str | None, action: str = ACTION_TITLE) -> dict[str, Any]:
    title, body = split_message(text)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_CHARS), "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(slack_escape(body) or " ", SLACK_SECTION_CHARS)}},
    ]
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": action},
                        "url": link,
                        **({"style": "danger"} if action == ACTION_TITLE else {}),
                    },
                ],
            }
        )
    return {"text": _cut(slack_escape(title), SLACK_SECTION_CHARS), "blocks": blocks}


_TEAMS_MARKDOWN = re.compile(r"([\\*_\[\]()#`~>|])")


def teams_escape(text: str) -> str:
    """Backslashes before the characters Adaptive Cards' Markdown reads (links, emphasis, headings)."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", text)


def teams_payload(text: str, link: str | None, action: str = ACTION_TITLE) -> dict[str, Any]:
    title, body = split_message(text)
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": teams_escape(title),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Attention",
            },
            {"type": "TextBlock", "text": _cut(teams_escape(body), TEAMS_TEXT_CHARS), "wrap": True},
        ],
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": action, "url": link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def generic_payload(text: str, incidents: list[tuple[str, int, str]]) -> dict[str, Any]:
    """``{"text"}`` for any JSON webhook, and the incidents as data: (id, severity, kind)."""
    return {"text": text, "incidents": [{"id": i, "severity": s, "kind": k} for i, s, k in incidents]}


def pagerduty_summary(brand_label: str, incident: Any) -> str:
    """One line for the PagerDuty alert's title: brand, severity, the size of the swell, what it is about."""
    about = f"; about {', '.join(incident.drivers[:3])}" if incident.drivers else ""
    return (
        f"{brand_label}: SEV{incident.severity} swell of negative posts, {incident.observed:.0f} in "
        f"{incident.window_minutes} min ({incident.ratio:.0f}x normal){about}"
    )


def pagerduty_event(
    action: str,
    *,
    routing_key: str,
    incident_id: str,
    summary: str = "",
    severity: int = 3,
    brand: str = "",
    at: datetime | None = None,
    link: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Events API v2 event; ``acknowledge`` and ``resolve`` need only the key and the ``dedup_key``."""
    if action not in ("trigger", "acknowledge", "resolve"):
        raise ValueError(f"not a PagerDuty event action: {action!r}")
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": incident_id[:255]}
    if action != "trigger":
        return event
    event["payload"] = {
        "summary": _cut(summary, PAGERDUTY_SUMMARY_CHARS),
        "source": f"groundswell:{brand}",
        "severity": SEVERITY_NAMES.get(severity, "error"),
        "component": brand,
        "group": "brand-crisis",
        "class": "negative-mention-swell",
        "custom_details": details or {},
    }
    if at is not None:
        event["payload"]["timestamp"] = at.isoformat()
    event["client"] = "Groundswell"
    if link:
        event["client_url"] = link
        event["links"] = [{"href": link, "text": ACTION_TITLE}]
    return event
