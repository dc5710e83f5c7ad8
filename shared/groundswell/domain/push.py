"""Pushed batches: HMAC-SHA256 request signatures with a timestamp, and the batch format.

A sender signs ``f"{timestamp}.{body}"`` with the shared key and sends
``X-Groundswell-Signature: t=<unix seconds>,v1=<hex digest>``. A request older or newer than the allowed
skew is rejected, and so is any exact replay of a request already accepted (the digest is remembered).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "x-groundswell-signature"
MAX_BODY_BYTES = 1024 * 1024
MAX_MENTIONS = 1000


class Refusal(enum.Enum):
    """Why a push is refused (the handler answers each with its HTTP status)."""

    UNSIGNED = "unsigned"  # no signature, a bad one, or out of its time window
    MALFORMED = "malformed"
    TOO_LARGE = "too large"
    UNKNOWN_BRAND = "unknown brand"
    REPLAY = "replay"


class PushRejected(Exception):
    def __init__(self, reason: Refusal, message: str):
        super().__init__(message)
        self.reason = reason


def sign(key: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(keys: bytes | Sequence[bytes], body: bytes, header: str | None, *, now: float, max_skew: int) -> str:
    """Checks a signature header against ``keys`` (the current key, and the previous one during its grace
    period after a rotation); returns the digest (the replay-guard key) or raises :class:`PushRejected`."""
    if not header:
        raise PushRejected(Refusal.UNSIGNED, f"missing {SIGNATURE_HEADER} header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise PushRejected(Refusal.UNSIGNED, "malformed signature header: expected t=<unix seconds>,v1=<hex>") from None
    if abs(now - timestamp) > max_skew:
        raise PushRejected(Refusal.UNSIGNED, f"signature timestamp outside the allowed {max_skew} s window")
    for key in (keys,) if isinstance(keys, bytes) else tuple(keys):
        expected = sign(key, body, timestamp).split("v1=", 1)[1]
        if hmac.compare_digest(expected, given):
            return expected
    raise PushRejected(Refusal.UNSIGNED, "signature does not match")


@dataclass(frozen=True)
class PushBatch:
    brand: str
    mentions: list[Any]


def parse_batch(body: bytes) -> PushBatch:
    """``{"brand": "<name>", "mentions": [<record in the public format>, ...]}``."""
    if len(body) > MAX_BODY_BYTES:
        raise PushRejected(Refusal.TOO_LARGE, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise PushRejected(Refusal.MALFORMED, f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("brand"), str):
        raise PushRejected(Refusal.MALFORMED, "expected an object with 'brand' (string) and 'mentions' (list)")
    mentions = payload.get("mentions")
    if not isinstance(mentions, list):
        raise PushRejected(Refusal.MALFORMED, "'mentions' must be a list")
    if len(mentions) > MAX_MENTIONS:
        raise PushRejected(Refusal.TOO_LARGE, f"at most {MAX_MENTIONS} mentions per request")
    return PushBatch(brand=payload["brand"], mentions=mentions)
