"""boto3 clients, created on first use with timeouts and adaptive retries.

The endpoint comes from the standard ``AWS_ENDPOINT_URL`` variables, so the same code runs against AWS
or against a local emulator without a special case.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 5, "mode": "adaptive"})
    return boto3.client(service, config=config)  # type: ignore[call-overload]


_forget: list[Callable[[], None]] = []  # caches built on the clients (secrets), cleared with them


def on_reset(forget: Callable[[], None]) -> None:
    """Registers a cache to clear whenever the clients are reset."""
    _forget.append(forget)


def reset_clients() -> None:
    """Forget cached clients and what was read through them (tests switch endpoints and credentials)."""
    client.cache_clear()
    for forget in _forget:
        forget()
