"""Accept a pushed batch: verify its signature, store its mentions exactly once, then take its replay guard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from groundswell.domain.listening import ingest
from groundswell.domain.ports import Brands, Mentions
from groundswell.domain.push import PushRejected, Refusal, parse_batch, verify
from groundswell.domain.records import parse_record
from groundswell.domain.sentiment import Scorer
from groundswell.domain.sources import Problem
from groundswell.observability import count


class Nonces(Protocol):
    def nonce_seen(self, digest: str) -> bool: ...
    def claim_nonce(self, digest: str, ttl_seconds: int) -> bool: ...


class PushStore(Protocol):
    @property
    def brands(self) -> Brands: ...
    @property
    def mentions(self) -> Mentions: ...
    @property
    def claims(self) -> Nonces: ...


def accept_push(
    body: bytes,
    signature: str | None,
    *,
    keys: Sequence[bytes],
    store: PushStore,
    scorer: Scorer,
    now: float,
    max_skew: int,
) -> dict[str, Any]:
    """Verifies, parses and ingests a pushed batch; raises ``PushRejected`` (with its reason)."""
    digest = verify(keys, body, signature, now=now, max_skew=max_skew)
    batch = parse_batch(body)
    brand = store.brands.get(batch.brand)
    if brand is None:
        count("PushUnknownBrand")
        raise PushRejected(
            Refusal.UNKNOWN_BRAND, f"unknown brand {batch.brand!r}: add it with 'groundswell brands add' first"
        )
    # the replay guard is taken only after the batch is stored: a sender retrying after a 5xx (a throttled
    # write) is accepted, and stores its batch once (mentions are recognised by their ids)
    if store.claims.nonce_seen(digest):
        raise PushRejected(Refusal.REPLAY, "this signed request was already accepted (replay)")
    problems: list[Problem] = []
    mentions = [
        m
        for i, raw in enumerate(batch.mentions)
        if (m := parse_record(raw, brand=brand.name, default_source="push", problems=problems, where=f"mentions[{i}]"))
        is not None
    ]
    report = ingest(mentions, problems, scorer=scorer, repository=store, source="push")
    if not store.claims.claim_nonce(digest, ttl_seconds=2 * max_skew):
        raise PushRejected(
            Refusal.REPLAY, "this signed request was already accepted (replay)"
        )  # a concurrent copy: stored once
    return {
        "brand": brand.name,
        "received": len(batch.mentions),
        "stored": report.stored,
        "duplicates": report.duplicates,
        "repaired": report.repaired,
        "rejected": [{"item": p.item, "reason": p.reason} for p in problems if p.action != "repaired"],
    }
