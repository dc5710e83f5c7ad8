"""boto3 clients, created on first use with timeouts and adaptive retries.

The endpoint comes from the standard ``AWS_ENDPOINT_URL`` variables, so the same code runs against AWS
or against a local emulator without a special case.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 5, "mode": "adaptive"})
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients and secrets (tests switch endpoints and credentials)."""
    from groundswell.adapters.secrets import reset_secrets

    client.cache_clear()
    reset_secrets()
