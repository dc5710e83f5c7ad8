"""The DynamoDB adapter: one table (keys ``pk``/``sk``; docs/storage.md), one repository per aggregate, each
split where a transaction ends:

============  ===========================================================  ==========================
repository    items (pk / sk)                                              written together
============  ===========================================================  ==========================
brands        ``BRANDS`` / ``BRAND#<name>``                                one item
cursors       ``BRAND#<name>`` / ``CURSOR#<source>``                       one item (versioned)
mentions      ``MENTIONS#..``, ``SEEN#..``, ``BRAND#<name>`` / ``BUCKET#..``  mention + guard + bucket
detector      ``BRAND#<name>`` / ``DETECTOR``, ``WATCH``, ``LEASE#..``       one item each
incidents     ``BRAND#<name>`` / ``EVENT#..``, ``INCIDENT#..``, ``OUTBOX``    event + outbox + incident
deliveries    ``ALERTS``, ``DELIVERY#<incident>``, ``HELD``                  delivery + held
claims        ``CLAIM#..``, ``LINK#..``, ``NONCE#..``                          the two SMS counters
============  ===========================================================  ==========================

:mod:`.table` is the only place that decides what a DynamoDB error means.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from groundswell.adapters.dynamo.brands import BrandRepository
from groundswell.adapters.dynamo.claims import ClaimRepository
from groundswell.adapters.dynamo.cursors import CursorRepository
from groundswell.adapters.dynamo.deliveries import DeliveryRepository
from groundswell.adapters.dynamo.detector import DetectorRepository
from groundswell.adapters.dynamo.incidents import IncidentRepository
from groundswell.adapters.dynamo.mentions import MentionRepository
from groundswell.adapters.dynamo.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Store:
    """Every repository over one table."""

    table: Table
    brands: BrandRepository
    cursors: CursorRepository
    mentions: MentionRepository
    detector: DetectorRepository
    incidents: IncidentRepository
    deliveries: DeliveryRepository
    claims: ClaimRepository


def open_store(
    client: DynamoDBClient,
    table_name: str,
    *,
    mention_ttl_days: int = 30,
    bucket_ttl_days: int = 400,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Store:
    """The repositories over ``table_name`` (``client``: a boto3 DynamoDB client, real or moto)."""
    table = Table(client, table_name, sleep=sleep, clock=clock)
    bucket_ttl = timedelta(days=bucket_ttl_days)
    return Store(
        table=table,
        brands=BrandRepository(table, bucket_ttl=bucket_ttl),
        cursors=CursorRepository(table),
        mentions=MentionRepository(table, mention_ttl=timedelta(days=mention_ttl_days), bucket_ttl=bucket_ttl),
        detector=DetectorRepository(table),
        incidents=IncidentRepository(table),
        deliveries=DeliveryRepository(table),
        claims=ClaimRepository(table),
    )
