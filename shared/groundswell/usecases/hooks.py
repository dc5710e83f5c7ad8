"""Alerts to machines: a webhook (Slack Block Kit, a Teams Adaptive Card, or generic JSON) and PagerDuty
events, one per incident."""

from __future__ import annotations

from datetime import datetime

from groundswell.domain.alerting import webhooks
from groundswell.domain.alerting.notices import AlertKind, Notice
from groundswell.domain.models import Recipient
from groundswell.domain.ports import EventSender, WebhookSender

VIEW_ONLY = (AlertKind.RESOLVED, AlertKind.TAKEN, AlertKind.ATTENTION)  # the link only shows the incident


def post_webhook(sender: WebhookSender, recipient: Recipient, notices: list[Notice], link: str) -> str:
    """Posts the alert in the shape its address expects; returns its text."""
    from groundswell.domain.alerting.email import compose

    text = compose(notices, links={n.incident.id: link for n in notices}, timezone=recipient.timezone).text
    shape = webhooks.format_for(recipient.address, recipient.webhook_format)
    view_only = all(n.kind in VIEW_ONLY for n in notices)
    action = webhooks.VIEW_TITLE if view_only else webhooks.ACTION_TITLE
    if shape is webhooks.WebhookFormat.SLACK:
        payload = webhooks.slack_payload(text, link, action)
    elif shape is webhooks.WebhookFormat.TEAMS:
        payload = webhooks.teams_payload(text, link, action)
    else:
        incidents = [(n.incident.id, n.incident.severity, n.kind.value) for n in notices]
        payload = webhooks.generic_payload(text, incidents)
    sender.send(recipient.address, payload)
    return text


def send_pages(sender: EventSender, recipient: Recipient, notices: list[Notice], now: datetime, link: str) -> str:
    """One PagerDuty event per incident: its alert is triggered (again: PagerDuty dedups on the incident id)
    until the all clear resolves it. Returns a line saying what was sent."""
    for notice in notices:
        incident = notice.incident
        details = {
            "observed": incident.observed,
            "expected": round(incident.expected, 1),
            "window_minutes": incident.window_minutes,
            "drivers": list(incident.drivers),
            "incident": incident.id,
        }
        event = webhooks.pagerduty_event(
            "resolve" if notice.kind is AlertKind.RESOLVED else "trigger",
            routing_key=recipient.address,
            incident_id=incident.id,
            summary=webhooks.pagerduty_summary(notice.brand_label, incident),
            severity=incident.severity,
            brand=incident.brand,
            at=now,
            link=link,
            details=details,
        )
        sender.send(event)
    return "; ".join(f"{n.kind.value} {n.incident.id}" for n in notices)
