"""Settings from the environment, validated once, lazily (never at import)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    """Every knob the functions read. Names are the environment variables, upper-cased.

    (pydantic-settings would do the same but costs 150 ms of cold start.)
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(min_length=3, description="the DynamoDB table of brands, mentions and counts")
    poll_queue_url: str | None = Field(default=None, description="SQS queue of (brand, source) poll requests")
    backfill_queue_url: str | None = Field(default=None, description="SQS queue of brand-days of history to fetch")
    bluesky_secret_id: str | None = Field(
        default=None,
        description="Secrets Manager id, or SSM SecureString name starting with 'ssm:', holding "
        '{"identifier": ..., "app_password": ...}',
    )
    bluesky_service: str = "https://bsky.social"
    hackernews_api: str = "https://hn.algolia.com/api/v1/search_by_date"
    push_secret_id: str | None = Field(default=None, description="Secrets Manager id of the push HMAC key")
    sentiment_scorer: str = Field(default="default", pattern="^(default|comprehend)$")
    mention_ttl_days: int = Field(default=30, ge=1, le=3650)
    bucket_ttl_days: int = Field(default=400, ge=7, le=3650)
    silent_source_minutes: int = Field(default=30, ge=5, le=7 * 24 * 60, description="no successful poll: alarm")
    failing_source_threshold: int = Field(default=3, ge=1, description="consecutive failures that raise an error")
    push_max_skew_seconds: int = Field(default=300, ge=30, le=3600)
    push_key_grace_hours: int = Field(default=24, ge=0, le=24 * 30, description="the previous push key's validity")
    notify_queue_url: str | None = Field(default=None, description="SQS queue that wakes the notifier")
    sms_provider: str = Field(default="end-user-messaging", pattern="^(end-user-messaging|sns)$")
    sms_origination_identity: str | None = Field(default=None, description="phone number, pool or sender id (ARN)")
    sms_configuration_set: str | None = None
    sms_max_price: str | None = Field(default=None, pattern=r"^\d+(\.\d{1,4})?$", description="USD per SMS part")
    sms_per_day: int = Field(default=500, ge=1, le=100_000, description="SMS parts per day, all recipients")
    sender_email: str | None = Field(default=None, description="SES verified identity the alerts come from")
    ses_configuration_set: str | None = None
    alert_link_base: str | None = Field(default=None, description="https base URL of the acknowledge endpoint")
    alert_link_secret_id: str | None = Field(default=None, description="Secrets Manager id of the link HMAC key")
    operator_topic_arn: str | None = None


class ConfigError(RuntimeError):
    """The function's configuration is wrong; the message says which variable and why."""


@cache
def settings() -> Settings:
    try:
        fields = Settings.model_fields
        return Settings.model_validate({k: os.environ[k.upper()] for k in fields if k.upper() in os.environ})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from None
