"""Secrets from Secrets Manager or SSM SecureString, cached per container for ``SECRET_MAX_AGE_SECONDS``.

Signing keys (alert links, pushes) rotate: :func:`signing_keys` returns the current key first and, for a
grace period after a rotation, the previous one (Secrets Manager's ``AWSPREVIOUS`` version), so what was
signed just before a rotation still verifies. A rotated value takes effect within the cache's max age.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from groundswell.adapters.aws import client, on_reset

SECRET_MAX_AGE_SECONDS = 300

_CACHE: dict[tuple[str, str], tuple[float, Any]] = {}  # (kind, id) -> (monotonic time fetched, value)
_LOCK = threading.Lock()


def reset_secrets() -> None:
    """Forget cached values (tests switch accounts)."""
    with _LOCK:
        _CACHE.clear()


on_reset(reset_secrets)


def _cached(kind: str, secret_id: str, fetch: Any) -> Any:
    key = (kind, secret_id)
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and now - hit[0] < SECRET_MAX_AGE_SECONDS:
            return hit[1]
    value = fetch()
    with _LOCK:
        _CACHE[key] = (now, value)
    return value


def _parse(secret_id: str, raw: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw if isinstance(raw, str) else bytes(raw).decode())
    except ValueError:
        raise ValueError(f"secret {secret_id!r} is not a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id!r} is not a JSON object")
    return value


def _read(secret_id: str, stage: str = "AWSCURRENT") -> tuple[dict[str, Any], datetime | None] | None:
    """(value, when this version was created) of one version, or None when there is no such version."""
    if secret_id.startswith("ssm:"):
        if stage != "AWSCURRENT":
            return None  # SSM parameters have no staged previous version
        reply = client("ssm").get_parameter(Name=secret_id.removeprefix("ssm:"), WithDecryption=True)
        return _parse(secret_id, reply["Parameter"]["Value"]), reply["Parameter"].get("LastModifiedDate")
    manager = client("secretsmanager")
    try:
        reply = manager.get_secret_value(SecretId=secret_id, VersionStage=stage)
    except manager.exceptions.ResourceNotFoundException:
        if stage == "AWSCURRENT":
            raise
        return None
    raw = reply.get("SecretString") or reply.get("SecretBinary") or b""
    return _parse(secret_id, raw), reply.get("CreatedDate")


def get_secret_json(secret_id: str) -> dict[str, Any]:
    """A JSON secret by id: a Secrets Manager name/ARN, or ``ssm:/path`` for an SSM SecureString."""
    current = _cached("json", secret_id, lambda: _read(secret_id))
    return dict(current[0])


def signing_keys(secret_id: str, *, grace: timedelta, now: datetime | None = None) -> tuple[bytes, ...]:
    """The secret's ``key``, then the previous version's while the current one is younger than ``grace``."""

    def fetch() -> tuple[bytes, bytes | None, datetime | None]:
        current, created = _read(secret_id) or ({}, None)
        previous = _read(secret_id, "AWSPREVIOUS")
        old = previous[0].get("key") if previous else None
        return _key(secret_id, current), str(old).encode() if old else None, created

    key, previous, created = _cached("keys", secret_id, fetch)
    moment = now or datetime.now(UTC)
    if previous and previous != key and created is not None and moment < created + grace:
        return key, previous
    return (key,)


def _key(secret_id: str, value: dict[str, Any]) -> bytes:
    key = value.get("key")
    if not isinstance(key, str) or len(key) < 16:
        raise ValueError(f"secret {secret_id!r} needs a 'key' of at least 16 characters")
    return key.encode()
