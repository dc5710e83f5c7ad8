"""Secrets from Secrets Manager or SSM SecureString, cached for a few minutes (Powertools parameters)."""

from __future__ import annotations

import json
from typing import Any

SECRET_MAX_AGE_SECONDS = 300


def get_secret_json(secret_id: str) -> dict[str, Any]:
    """A JSON secret by id: a Secrets Manager name/ARN, or ``ssm:/path`` for an SSM SecureString."""
    from aws_lambda_powertools.utilities import parameters

    from groundswell.adapters.aws import client

    if secret_id.startswith("ssm:"):
        raw = parameters.SSMProvider(boto3_client=client("ssm")).get(
            secret_id.removeprefix("ssm:"), decrypt=True, max_age=SECRET_MAX_AGE_SECONDS
        )
    else:
        raw = parameters.SecretsProvider(boto3_client=client("secretsmanager")).get(
            secret_id, max_age=SECRET_MAX_AGE_SECONDS
        )
    try:
        value = json.loads(raw if isinstance(raw, str) else bytes(raw).decode())  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"secret {secret_id!r} is not a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id!r} is not a JSON object")
    return value
