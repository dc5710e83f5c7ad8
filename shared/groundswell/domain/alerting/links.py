"""Signed, expiring acknowledge/snooze links short enough for one SMS.

A link is ``<base>/a/<id><signature>``: ``id`` is 8 random base-62 characters naming a stored record (the
incidents, the recipient, the expiry); ``signature`` is the first 12 base-62 characters of
HMAC-SHA256(key, id | recipient | incidents | expiry). The endpoint loads the record and compares signatures in
constant time (``hmac.compare_digest``), so a leaked table does not yield working links and a guessed id does
not work without the key. Expiry is checked from the record, not left to DynamoDB's TTL (which lags).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

LINK_TTL = timedelta(days=3)  # an alert's links work this long (and the previous key as long after a rotation)

ALPHABET = string.digits + string.ascii_letters
ID_CHARS, SIGNATURE_CHARS = 8, 12
TOKEN = re.compile(rf"^[0-9A-Za-z]{{{ID_CHARS + SIGNATURE_CHARS}}}$")


class LinkRecord(BaseModel):
    """What a link acts on: stored under its id."""

    recipient: str  # recipient key
    recipient_name: str
    incidents: tuple[str, ...]
    brands: tuple[str, ...]
    expires_at: datetime


def _base62(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(chars)


def signature(key: bytes, link_id: str, record: LinkRecord) -> str:
    message = "|".join([link_id, record.recipient, ",".join(record.incidents), record.expires_at.isoformat()])
    return _base62(hmac.new(key, message.encode(), hashlib.sha256).digest(), SIGNATURE_CHARS)


def new_token(key: bytes, record: LinkRecord) -> tuple[str, str]:
    """A fresh (id, token) for ``record``: store the record under id, put the token in the URL."""
    link_id = "".join(secrets.choice(ALPHABET) for _ in range(ID_CHARS))
    return link_id, link_id + signature(key, link_id, record)


def split_token(token: str) -> tuple[str, str] | None:
    """(id, signature) of a well-formed token, else None."""
    return (token[:ID_CHARS], token[ID_CHARS:]) if TOKEN.match(token) else None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def verify(keys: bytes | Sequence[bytes], token: str, record: LinkRecord | None, now: datetime) -> Verdict:
    """Is ``token`` a valid, unexpired link for ``record`` (the record stored under its id), signed with one of
    ``keys`` (the current key, and the previous one during its grace period after a rotation)?"""
    parts = split_token(token)
    if parts is None or record is None:
        return Verdict(False, "This link is not valid.")
    candidates = (keys,) if isinstance(keys, bytes) else tuple(keys)
    if not any(hmac.compare_digest(parts[1], signature(key, parts[0], record)) for key in candidates):
        return Verdict(False, "This link is not valid.")
    if now >= record.expires_at:
        return Verdict(False, "This link has expired. Reply ACK to the SMS or use a newer alert's link.")
    return Verdict(True)


def url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/a/{token}"
