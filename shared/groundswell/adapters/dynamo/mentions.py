"""Mentions and their 5-minute buckets, written in one transaction so that a mention stored is a mention
counted (docs/storage.md):

- mention ``MENTIONS#<name>#<day>`` / ``<iso created>#<key hash>``: the mention as JSON (``m``); TTL
- guard ``SEEN#<name>#<key hash>`` / ``SEEN``: the post's source and id, whatever its timestamp; TTL
- bucket ``BRAND#<name>`` / ``BUCKET#<iso start>``: counts (``ADD``), the negative authors' set; TTL

New mentions are written with ``attribute_not_exists(pk)`` in the same transaction as their guards and the
``ADD`` to their buckets, so a mention already there (an overlapping poll, a retry, a second Mastodon server, a
concurrent poller, a post whose timestamp changed between fetches) is neither stored nor counted again.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from groundswell.adapters.dynamo.table import TRANSACTION_TRIES, Table, condition_failed, key, reasons, units
from groundswell.domain.models import Bucket, Mention, Sentiment, bucket_start
from groundswell.domain.ports import StoreReport
from groundswell.observability import count, logger, unreadable

TRANSACTION_LIMIT = 100
AUTHORS_PER_BUCKET = 20_000  # 13 bytes each: ~260 KB, well below DynamoDB's 400 KB item limit


def author_digest(author: str) -> str:
    """A short, stable, non-reversible token for an author (distinct counts without storing handles)."""
    return hashlib.blake2b(author.lower().encode(), digest_size=6).hexdigest()


class MentionRepository:
    def __init__(self, table: Table, *, mention_ttl: timedelta, bucket_ttl: timedelta):
        self._table, self._mention_ttl, self._bucket_ttl = table, mention_ttl, bucket_ttl

    def store(self, mentions: Iterable[Mention], *, may_overlap: bool = True) -> StoreReport:
        """Stores new mentions and counts each exactly once into its bucket (see the module doc).

        ``may_overlap=False`` skips the read-before-write pre-filter for batches that are new by
        construction (an exact cursor); a duplicate still cannot be counted twice (the condition holds)."""
        report = StoreReport()
        unique: dict[tuple[str, str], Mention] = {}
        for mention in mentions:
            guard = _seen_key(mention)
            if guard in unique:
                report.duplicates += 1
            else:
                unique[guard] = mention
        fresh = self._drop_existing(unique, report) if may_overlap else list(unique.values())
        report.duplicates += len(unique) - len(fresh)
        for chunk in _transaction_chunks(fresh):
            self._write_chunk(chunk, report)
        return report

    def _drop_existing(self, unique: dict[tuple[str, str], Mention], report: StoreReport) -> list[Mention]:
        """A cheap pre-filter (eventually consistent reads of the posts' guards): most re-fetched posts stop
        here, not in a transaction. Correctness does not depend on it: the transaction's conditions do."""

        def add_units(used: float) -> None:
            report.read_units += used

        items = self._table.batch_get([key(*k) for k in unique], projection="pk, sk", on_units=add_units)
        existing = {(item["pk"]["S"], item["sk"]["S"]) for item in items}
        return [m for k, m in unique.items() if k not in existing]

    def _write_chunk(self, chunk: list[Mention], report: StoreReport) -> None:
        for attempt in range(TRANSACTION_TRIES):
            if not chunk:
                return
            items, starts = self._transaction_items(chunk)
            try:
                reply = self._table.db.transact_write_items(TransactItems=items, ReturnConsumedCapacity="TOTAL")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = reasons(exc)  # two items per mention (its item, its guard), then the buckets
                taken = {i for i in range(len(chunk)) if "ConditionalCheckFailed" in codes[2 * i : 2 * i + 2]}
                if taken:  # written meanwhile by someone else: already counted there
                    report.duplicates += len(taken)
                    chunk = [m for i, m in enumerate(chunk) if i not in taken]
                else:  # conflict or throttling: back off and try the same chunk again
                    self._table.sleep(min(2.0, 0.05 * 2**attempt))
                continue
            report.stored += len(chunk)
            report.buckets.update(starts)
            report.write_units += units(reply)
            self._add_authors(chunk)
            return
        raise RuntimeError(f"could not store {len(chunk)} mentions after {TRANSACTION_TRIES} tries")

    def _add_authors(self, chunk: list[Mention]) -> None:
        """Adds the chunk's negative authors to their buckets' sets, outside the counting transaction and only
        while a set holds fewer than ``AUTHORS_PER_BUCKET`` (a viral burst would otherwise grow the bucket item
        past DynamoDB's 400 KB and stop its source). Best effort: the counts are already stored; a set that is
        full or an update that fails leaves the crowd signal an underestimate, counted as ``AuthorsCapped``."""
        per_bucket: dict[tuple[str, datetime], set[str]] = defaultdict(set)
        for m in chunk:
            if m.sentiment is Sentiment.NEGATIVE:
                per_bucket[(m.brand, bucket_start(m.created_at))].add(author_digest(m.author))
        for (brand, start), authors in per_bucket.items():
            try:
                self._table.db.update_item(
                    TableName=self._table.name,
                    Key=key(f"BRAND#{brand}", f"BUCKET#{start.isoformat()}"),
                    UpdateExpression="ADD negative_authors :authors",
                    ConditionExpression="attribute_not_exists(negative_authors) OR size(negative_authors) < :cap",
                    ExpressionAttributeValues={
                        ":authors": {"SS": sorted(authors)},
                        ":cap": {"N": str(AUTHORS_PER_BUCKET)},
                    },
                )
            except ClientError as exc:
                count("AuthorsCapped", 1)
                if not condition_failed(exc):
                    logger.warning("negative authors not added", extra={"brand": brand, "error": str(exc)[:300]})

    def _transaction_items(self, chunk: list[Mention]) -> tuple[list[Any], list[datetime]]:
        """Per mention: its item and its guard, each put only if absent; then one ``ADD`` per bucket."""
        table = self._table.name
        items: list[Any] = []
        per_bucket: dict[tuple[str, datetime], list[Mention]] = defaultdict(list)
        for mention in chunk:
            item = self._mention_item(mention)
            # the post's own identity (source and id), whatever its timestamp says this time: one post, one count
            guard = {**key(*_seen_key(mention)), "expires_at": item["expires_at"]}
            for put in (item, guard):
                items.append(
                    {"Put": {"TableName": table, "Item": put, "ConditionExpression": "attribute_not_exists(pk)"}}
                )
            per_bucket[(mention.brand, bucket_start(mention.created_at))].append(mention)
        for (brand, start), members in per_bucket.items():
            items.append({"Update": self._bucket_update(brand, start, members)})
        return items, [start for _, start in per_bucket]

    def _mention_item(self, mention: Mention) -> dict[str, Any]:
        """The mention as one JSON document attribute: a few attributes keep writes lean (and moto fast)."""
        digest = hashlib.blake2b(mention.key.encode(), digest_size=10).hexdigest()
        created = _stamp(mention.created_at)
        return {
            **key(f"MENTIONS#{mention.brand}#{created[:10]}", f"{created}#{digest}"),
            "m": {"S": mention.model_dump_json(exclude={"brand"}, exclude_none=True)},
            "expires_at": {"N": str(int((mention.created_at + self._mention_ttl).timestamp()))},
        }

    def _bucket_update(self, brand: str, start: datetime, members: list[Mention]) -> dict[str, Any]:
        counts = {s: 0 for s in Sentiment}
        for m in members:
            counts[m.sentiment or Sentiment.NEUTRAL] += 1
        values: dict[str, Any] = {
            ":total": {"N": str(len(members))},
            ":neg": {"N": str(counts[Sentiment.NEGATIVE])},
            ":neu": {"N": str(counts[Sentiment.NEUTRAL])},
            ":pos": {"N": str(counts[Sentiment.POSITIVE])},
            ":eng": {"N": str(sum(m.engagement for m in members))},
            ":exp": {"N": str(int((start + self._bucket_ttl).timestamp()))},
        }
        expression = "ADD #total :total, negative :neg, neutral :neu, positive :pos, engagement :eng"
        return {
            "TableName": self._table.name,
            "Key": key(f"BRAND#{brand}", f"BUCKET#{start.isoformat()}"),
            "UpdateExpression": expression + " SET expires_at = :exp",
            "ExpressionAttributeNames": {"#total": "total"},
            "ExpressionAttributeValues": values,
        }

    def buckets(self, brand: str, start: datetime, end: datetime) -> list[Bucket]:
        """The brand's buckets with ``start <= bucket start < end``, oldest first (missing = no mentions)."""
        span = (f"BUCKET#{start.isoformat()}", f"BUCKET#{end.isoformat()}")
        items = self._table.query(f"BRAND#{brand}", between=span)
        return [b for b in (_bucket_from_item(brand, item) for item in items) if b.start < end]

    def buckets_at(self, wanted: Sequence[tuple[str, datetime]]) -> dict[tuple[str, datetime], Bucket]:
        """The stored buckets among (brand, start) pairs, 100 keys per BatchGetItem (absent = no mentions)."""
        keys = [key(f"BRAND#{brand}", f"BUCKET#{start.isoformat()}") for brand, start in wanted]
        found: dict[tuple[str, datetime], Bucket] = {}
        for item in self._table.batch_get(keys, consistent=True):
            bucket = _bucket_from_item(item["pk"]["S"].removeprefix("BRAND#"), item)
            found[(bucket.brand, bucket.start)] = bucket
        return found

    def mentions(self, brand: str, start: datetime, end: datetime) -> list[Mention]:
        """Stored mentions of ``brand`` created in [start, end), oldest first (one query per UTC day). One that
        does not validate (stored by another version) is left out and logged: mentions feed drivers and sample
        posts, never counts, so an incident is still described and alerted."""
        out: list[Mention] = []
        errors: list[ValueError] = []
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date():
            for item in self._table.query(f"MENTIONS#{brand}#{day.isoformat()}", between=(_stamp(start), _stamp(end))):
                try:
                    out.append(Mention.model_validate({**json.loads(item["m"]["S"]), "brand": brand}))
                except ValueError as exc:  # a ValidationError, or not JSON at all
                    errors.append(exc)
            day += timedelta(days=1)
        if errors:
            unreadable(
                "mention",
                "stored mentions unreadable: left out",
                errors[0],
                len(errors),
                brand=brand,
                count=len(errors),
            )
        return [m for m in out if start <= m.created_at < end]


def _seen_key(mention: Mention) -> tuple[str, str]:
    """The guard of a post for a brand: its source and id only (a timestamp may change between fetches)."""
    digest = hashlib.blake2b(mention.key.encode(), digest_size=12).hexdigest()
    return f"SEEN#{mention.brand}#{digest}", "SEEN"


def _stamp(moment: datetime) -> str:
    """Fixed-width UTC time, so that sort keys order as times do."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _bucket_from_item(brand: str, item: dict[str, Any]) -> Bucket:
    return Bucket(
        brand=brand,
        start=datetime.fromisoformat(item["sk"]["S"].removeprefix("BUCKET#")),
        total=int(item["total"]["N"]),
        negative=int(item["negative"]["N"]),
        neutral=int(item["neutral"]["N"]),
        positive=int(item["positive"]["N"]),
        negative_authors=len(item.get("negative_authors", {}).get("SS", [])),
        engagement=int(item["engagement"]["N"]),
    )


def _transaction_chunks(mentions: list[Mention]) -> Iterator[list[Mention]]:
    """Groups mentions (sorted by time) so that two puts each (the mention, its guard) and one update per bucket
    stay within 100 actions."""
    chunk: list[Mention] = []
    buckets: set[datetime] = set()
    for mention in sorted(mentions, key=lambda m: m.created_at):
        start = bucket_start(mention.created_at)
        extra = 2 + (start not in buckets)
        if 2 * len(chunk) + len(buckets) + extra > TRANSACTION_LIMIT:
            yield chunk
            chunk, buckets = [], set()
        chunk.append(mention)
        buckets.add(start)
    if chunk:
        yield chunk
