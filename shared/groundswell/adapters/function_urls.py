"""Reading a Lambda Function URL event (payload format 2.0) defensively: whatever a stranger sends, the handler
gets a method, a path and the body's bytes, or a :class:`BadRequest` to answer with a 4xx."""

from __future__ import annotations

import base64
import binascii
from typing import Any


class BadRequest(ValueError):
    """The request cannot be read (a body that is not the base64 it claims to be, say)."""


def method(event: dict[str, Any], default: str) -> str:
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    value = http.get("method") if isinstance(http, dict) else None
    return value.upper() if isinstance(value, str) and value else default


def path(event: dict[str, Any]) -> str:
    value = event.get("rawPath")
    return value if isinstance(value, str) and value else "/"


def query(event: dict[str, Any]) -> dict[str, str]:
    """The query string's parameters (Function URLs give them as a dict of strings; repeated ones joined)."""
    raw = event.get("queryStringParameters")
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def headers(event: dict[str, Any]) -> dict[str, str]:
    raw = event.get("headers")
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in raw.items()}


def body_bytes(event: dict[str, Any]) -> bytes:
    """The body as sent: base64-decoded when the event says so (strictly), else the text as UTF-8."""
    raw = event.get("body")
    if raw is None:
        return b""
    if not isinstance(raw, str):
        raise BadRequest("the body is not text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw.encode("ascii"), validate=True)
        except (ValueError, binascii.Error):
            raise BadRequest("the body is not valid base64") from None
    return raw.encode("utf-8", "surrogatepass")
