"""Adapters that deliver messages: SMS (AWS End User Messaging, or SNS), email (SES v2), webhooks (Slack/Teams),
and notices to the operator (SNS topic). The only alerting module that talks to AWS or the network.

SMS goes through End User Messaging ``SendTextMessage`` by default: it takes the origination identity, a
configuration set (delivery events), ``MaxPrice`` and ``TimeToLive`` per message and reports an opted-out
destination as an error at once, which the STOP fallback needs. ``SnsSms`` keeps SNS ``Publish`` behind the
same interface for accounts that already send through SNS (and for the local stack: moto emulates SNS SMS but
not End User Messaging).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from groundswell.adapters.http import HttpClient, HttpError
from groundswell.domain.alerting.webhooks import PAGERDUTY_EVENTS_URL
from groundswell.domain.ports import DeliveryError, OptedOut


class EndUserMessagingSms:
    def __init__(
        self,
        client: Any,
        origination_identity: str,
        *,
        configuration_set: str | None = None,
        max_price: str | None = None,
        ttl_seconds: int = 3600,
    ):
        self._client, self._origin = client, origination_identity
        self._configuration_set, self._max_price, self._ttl = configuration_set, max_price, ttl_seconds

    def send(self, phone: str, text: str) -> str:
        request: dict[str, Any] = {
            "DestinationPhoneNumber": phone,
            "OriginationIdentity": self._origin,
            "MessageBody": text,
            "MessageType": "TRANSACTIONAL",
            "TimeToLive": self._ttl,
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if self._max_price:
            request["MaxPrice"] = self._max_price
        try:
            return str(self._client.send_text_message(**request)["MessageId"])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = exc.response.get("Reason") or error.get("Reason", "")
            if error.get("Code") == "ConflictException" and reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT":
                raise OptedOut(phone) from exc
            if error.get("Code") in (
                "ValidationException",
                "ConflictException",
                "AccessDeniedException",
                "ResourceNotFoundException",
                "ServiceQuotaExceededException",
            ):
                raise DeliveryError(f"{error.get('Code')}: {reason or error.get('Message', '')}") from exc
            raise


class NoSms:
    """A deployment without an SMS origination identity: every SMS is undeliverable (fallback applies)."""

    def __init__(self, reason: str):
        self._reason = reason

    def send(self, phone: str, text: str) -> str:
        raise DeliveryError(self._reason)


class SnsSms:
    def __init__(self, client: Any, origination_number: str | None = None, *, max_price: str | None = None):
        self._client, self._origin, self._max_price = client, origination_number, max_price

    def send(self, phone: str, text: str) -> str:
        if self._client.check_if_phone_number_is_opted_out(phoneNumber=phone).get("isOptedOut"):
            raise OptedOut(phone)
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._origin:
            attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": self._origin}
        if self._max_price:
            attributes["AWS.SNS.SMS.MaxPrice"] = {"DataType": "Number", "StringValue": self._max_price}
        try:
            return str(self._client.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)["MessageId"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "OptedOut":
                raise OptedOut(phone) from exc
            if code in ("InvalidParameter", "InvalidParameterValue", "AuthorizationError"):
                raise DeliveryError(f"{code}: {exc.response['Error'].get('Message', '')}") from exc
            raise


class SesEmail:
    def __init__(self, client: Any, *, configuration_set: str | None = None):
        self._client, self._configuration_set = client, configuration_set

    def send(self, sender: str, to: str, raw: bytes) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": raw}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            return str(self._client.send_email(**request)["MessageId"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in (
                "MessageRejected",
                "MailFromDomainNotVerifiedException",
                "AccountSuspendedException",
                "SendingPausedException",
                "BadRequestException",
                "NotFoundException",
            ):
                raise DeliveryError(f"{code}: {exc.response['Error'].get('Message', '')}") from exc
            raise


class Webhook:
    """Posts a JSON payload (``alerting.webhooks`` shapes it for Slack, Teams or any endpoint)."""

    def __init__(self, http: HttpClient | None = None):
        self._http = http or HttpClient(name="webhook", timeout=5.0, max_attempts=3)

    def send(self, url: str, payload: dict[str, Any]) -> str:
        try:
            self._http.request(
                "POST", url, body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
            )
        except HttpError as exc:
            if exc.transient:
                raise
            raise DeliveryError(f"webhook refused the message: HTTP {exc.status}") from exc
        return "webhook"


class PagerDutyEvents:
    """PagerDuty's Events API v2: 202 accepted; 400 is an invalid event (or key), never retried; 429 and 5xx
    are retried by the notifier's retry of the delivery."""

    def __init__(self, http: HttpClient | None = None, url: str = PAGERDUTY_EVENTS_URL):
        self._http = http or HttpClient(name="pagerduty", timeout=5.0, max_attempts=3)
        self._url = url

    def send(self, event: dict[str, Any]) -> str:
        try:
            reply = self._http.request(
                "POST", self._url, body=json.dumps(event).encode(), headers={"Content-Type": "application/json"}
            )
        except HttpError as exc:
            if exc.transient:
                raise
            raise DeliveryError(f"PagerDuty refused the event: HTTP {exc.status} {exc.error_code or ''}") from exc
        try:
            return str(reply.json().get("dedup_key") or event["dedup_key"])
        except (HttpError, AttributeError):
            return str(event["dedup_key"])


class OperatorNotices:
    """Tells the operator (SNS topic, e.g. email to the on-call engineer) about what needs a human."""

    def __init__(self, client: Any, topic_arn: str | None):
        self._client, self._topic = client, topic_arn

    def tell(self, subject: str, message: str) -> None:
        if self._topic:
            self._client.publish(TopicArn=self._topic, Subject=subject[:99], Message=message)
