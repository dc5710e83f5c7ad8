"""The DynamoDB repository: the only module that knows the table's keys and item shapes.

One table, keys ``pk``/``sk`` (docs/storage.md has the design and the write cost):

=========  =============================  ==============================  =====================================
item       pk                             sk                              notes
=========  =============================  ==============================  =====================================
brand      ``BRANDS``                     ``BRAND#<name>``                config as JSON; ``removed_at``: a tombstone
cursor     ``BRAND#<name>``               ``CURSOR#<source>``             state JSON, version, failure count
bucket     ``BRAND#<name>``               ``BUCKET#<iso start>``          counts (ADD), negative author set
mention    ``MENTIONS#<name>#<day>``      ``<iso created>#<key hash>``    ``m``: the mention as JSON; TTL
seen       ``SEEN#<name>#<key hash>``     ``SEEN``                        a post's guard: source and id; TTL
nonce      ``NONCE#<digest>``             ``NONCE``                       push replay guard; TTL
detector   ``BRAND#<name>``               ``DETECTOR``                    state (zlib JSON, binary)
unobserved ``WATCH``                      ``UNOBSERVED``                  brands with every source silent (set)
incident   ``BRAND#<name>``               ``INCIDENT#<id>``               incident JSON, status
event      ``BRAND#<name>``               ``EVENT#<id>#<kind>#<bucket>``  one per transition (idempotent)
outbox     ``OUTBOX``                     ``<bucket>#<id>#<kind>``         transitions not yet notified
alert      ``ALERTS``                     ``<incident id>``               who was told, ack, snooze; version
delivery   ``DELIVERY#<incident id>``     ``<step>#<recipient key>``      one per message (idempotent); TTL
held       ``HELD``                       ``<release>#<delivery>``        held for quiet hours
claim      ``CLAIM#<what>``               ``CLAIM``                       once-only (summaries, SMS counts); TTL
lease      ``LEASE#<what>``               ``LEASE``                       the detector's single-writer lease
link       ``LINK#<id>``                  ``LINK``                        ack/snooze link record; TTL
=========  =============================  ==============================  =====================================

A mention is counted exactly once: new mentions are written with ``attribute_not_exists(pk)`` in the same
transaction as the ``ADD`` to their buckets, so a mention stored is a mention counted, and a mention already
there (an overlapping poll, a retry, a second Mastodon server, a concurrent poller) is neither. Each mention's
``SEEN`` guard (its source and id, never its timestamp) is written in the same transaction under the same
condition, so a post whose timestamp changed between fetches (an RSS item's updated pubDate, a push re-sent)
is still counted once.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from groundswell import table
from groundswell.models import Brand, Bucket, Mention, Sentiment, bucket_start
from groundswell.observability import count, logger, unreadable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACTION_LIMIT = 100
AUTHORS_PER_BUCKET = 20_000  # 13 bytes each: ~260 KB, well below DynamoDB's 400 KB item limit
MAX_TRANSACTION_TRIES = 6
MAX_DELIVERY_ATTEMPTS = 3


class CursorConflict(Exception):
    """Another poller moved the cursor first; its position stands (our mentions are stored regardless)."""


@dataclass(frozen=True)
class CursorRecord:
    state: dict[str, Any] | None
    version: int = 0
    failures: int = 0
    last_error: str | None = None
    last_success: str | None = None


@dataclass(frozen=True)
class OutboxEvent:
    key: str
    brand: str
    kind: str
    incident: str  # JSON


@dataclass
class StoreReport:
    """What storing a batch did: ``stored`` new mentions were counted; ``duplicates`` were already there."""

    stored: int = 0
    duplicates: int = 0
    buckets: set[datetime] = field(default_factory=set)
    write_units: float = 0.0
    read_units: float = 0.0


def author_digest(author: str) -> str:
    """A short, stable, non-reversible token for an author (distinct counts without storing handles)."""
    return hashlib.blake2b(author.lower().encode(), digest_size=6).hexdigest()


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DynamoStore:
    """Repository over one table. ``client`` is a boto3 DynamoDB client (real, or moto in tests)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        mention_ttl_days: int = 30,
        bucket_ttl_days: int = 400,
        sleep: Any = time.sleep,
    ):
        self._db, self.table = client, table
        self._mention_ttl = timedelta(days=mention_ttl_days)
        self._bucket_ttl = timedelta(days=bucket_ttl_days)
        self._sleep = sleep

    # ------------------------------------------------------------ brands

    def put_brand(self, brand: Brand) -> None:
        self._db.put_item(TableName=self.table, Item=_brand_item(brand))

    def put_brands(self, brands: Sequence[Brand]) -> None:
        """Bulk import of brand configs."""
        self._batch_put([_brand_item(b) for b in brands])

    def _batch_put(self, items: Sequence[dict[str, Any]]) -> None:
        self._batch_write([{"PutRequest": {"Item": item}} for item in items])

    def _batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem in chunks of 25, re-sending unprocessed requests with backoff; raises if some never go."""
        for chunk in chunked(list(requests), BATCH_WRITE_LIMIT):
            pending: list[Any] = list(chunk)
            for attempt in range(MAX_TRANSACTION_TRIES):
                reply = self._db.batch_write_item(RequestItems={self.table: pending})
                pending = reply.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    break
                self._sleep(min(2.0, 0.05 * 2**attempt))
            if pending:
                raise RuntimeError(f"{len(pending)} items were not written after retries (throttled)")

    def get_brand(self, name: str) -> Brand | None:
        """The brand's config; None when there is none or the brand was removed."""
        item = self._db.get_item(TableName=self.table, Key=_key("BRANDS", f"BRAND#{name}"), ConsistentRead=True).get(
            "Item"
        )
        return Brand.model_validate_json(item["config"]["S"]) if item and "removed_at" not in item else None

    def list_brands(self, *, include_removed: bool = False) -> list[Brand]:
        """Every brand whose stored config is valid. One that is not (edited by hand, or written by another
        version) is logged and left out, so that it cannot stop polling, detection and alerts for the others.

        ``include_removed``: removed brands too, as paused ones (``enabled: false``); the detector needs them
        so that their absence is not learned as calm if they come back."""
        brands = []
        for item in self._query("BRANDS", "BRAND#"):
            removed = "removed_at" in item
            if removed and not include_removed:
                continue
            try:
                brand = Brand.model_validate_json(item["config"]["S"])
                brands.append(brand.model_copy(update={"enabled": False}) if removed else brand)
            except ValidationError as exc:
                unreadable("brand_config", "brand config is invalid: left out until it is fixed", exc,
                           brand=item["sk"]["S"].removeprefix("BRAND#"), errors=exc.error_count(),
                           field=".".join(str(part) for part in exc.errors()[0]["loc"]))  # fmt: skip
        return brands

    def delete_brand(self, name: str, now: datetime) -> bool:
        """Removes a brand: its item stays as a tombstone (hidden from everything but the detector, which
        treats it as paused) until the buckets it guards have expired; adding the brand again replaces it.
        False when there is no such brand."""
        expires = int((now + self._bucket_ttl).timestamp())
        return table.write_if(
            self._db.update_item,
            TableName=self.table,
            Key=_key("BRANDS", f"BRAND#{name}"),
            UpdateExpression="SET removed_at = :at, expires_at = :exp",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(removed_at)",
            ExpressionAttributeValues={":at": {"S": now.isoformat()}, ":exp": {"N": str(expires)}},
        )

    # ------------------------------------------------------------ cursors

    def load_cursor(self, brand: str, source: str) -> CursorRecord:
        item = self._db.get_item(
            TableName=self.table, Key=_key(f"BRAND#{brand}", f"CURSOR#{source}"), ConsistentRead=True
        ).get("Item")
        if not item:
            return CursorRecord(state=None)
        return CursorRecord(
            state=json.loads(item["state"]["S"]) if "state" in item else None,
            version=int(item["version"]["N"]),
            failures=int(item.get("failures", {}).get("N", "0")),
            last_error=item.get("last_error", {}).get("S"),
            last_success=item.get("last_success", {}).get("S"),
        )

    def save_cursor(self, brand: str, source: str, state: dict[str, Any] | None, expected_version: int, *,
                    polled_at: datetime | None = None) -> None:  # fmt: skip
        """Advances the cursor if nobody else did since it was loaded; resets the failure count and records
        ``polled_at`` (default: now) as the last success."""
        if not table.write_if(
            self._db.update_item,
            TableName=self.table,
            Key=_key(f"BRAND#{brand}", f"CURSOR#{source}"),
            UpdateExpression="SET #s = :s, version = :next, failures = :zero, last_success = :now",
            ConditionExpression="attribute_not_exists(version) OR version = :expected",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":s": {"S": json.dumps(state, sort_keys=True)},
                ":next": {"N": str(expected_version + 1)},
                ":expected": {"N": str(expected_version)},
                ":zero": {"N": "0"},
                ":now": {"S": (polled_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")},
            },
        ):
            raise CursorConflict(f"cursor {brand}/{source} moved by another poller")

    def last_successes(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        """When each (brand, source) was last polled successfully; pairs never polled are absent."""
        keys = [_key(f"BRAND#{brand}", f"CURSOR#{source}") for brand, source in pairs]
        found = {}
        for item in self._batch_get(keys, projection="pk, sk, last_success"):
            if "last_success" in item:
                pair = (item["pk"]["S"].removeprefix("BRAND#"), item["sk"]["S"].removeprefix("CURSOR#"))
                found[pair] = datetime.fromisoformat(item["last_success"]["S"])
        return found

    def record_failure(self, brand: str, source: str, error: str) -> int:
        """Counts a failed poll (the cursor stays where it is); returns the consecutive failure count."""
        reply = self._db.update_item(
            TableName=self.table,
            Key=_key(f"BRAND#{brand}", f"CURSOR#{source}"),
            UpdateExpression="ADD failures :one SET last_error = :e, last_failure = :now, "
            "version = if_not_exists(version, :zero)",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":e": {"S": error[:500]},
                ":now": {"S": _now_iso()},
                ":zero": {"N": "0"},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(reply["Attributes"]["failures"]["N"])

    # ------------------------------------------------------------ mentions and buckets

    def store_mentions(self, mentions: Iterable[Mention], *, may_overlap: bool = True) -> StoreReport:
        """Stores new mentions and counts each exactly once into its 5-minute bucket (see module doc).

        ``may_overlap=False`` skips the read-before-write pre-filter for batches that are new by
        construction (an exact cursor); a duplicate still cannot be counted twice (the condition holds)."""
        report = StoreReport()
        unique: dict[tuple[str, str], Mention] = {}
        for mention in mentions:
            key = _seen_key(mention)
            if key in unique:
                report.duplicates += 1
            else:
                unique[key] = mention
        fresh = self._drop_existing(unique, report) if may_overlap else list(unique.values())
        report.duplicates += len(unique) - len(fresh)
        for chunk in _transaction_chunks(fresh):
            self._write_chunk(list(chunk), report)
        return report

    def _drop_existing(self, unique: dict[tuple[str, str], Mention], report: StoreReport) -> list[Mention]:
        """A cheap pre-filter (eventually consistent reads of the posts' guards): most re-fetched posts stop
        here, not in a transaction. Correctness does not depend on it: the transaction's conditions do."""
        items = self._batch_get([_key(*k) for k in unique], projection="pk, sk", report=report)
        existing = {(item["pk"]["S"], item["sk"]["S"]) for item in items}
        return [m for k, m in unique.items() if k not in existing]

    def _write_chunk(self, chunk: list[Mention], report: StoreReport) -> None:
        for attempt in range(MAX_TRANSACTION_TRIES):
            if not chunk:
                return
            items, bucket_updates = self._transaction_items(chunk)
            try:
                reply = self._db.transact_write_items(TransactItems=items, ReturnConsumedCapacity="TOTAL")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = table.reasons(exc)  # two items per mention (its item, its guard), then the buckets
                taken = {i for i in range(len(chunk)) if "ConditionalCheckFailed" in codes[2 * i : 2 * i + 2]}
                if taken:  # written meanwhile by someone else: already counted there
                    report.duplicates += len(taken)
                    chunk = [m for i, m in enumerate(chunk) if i not in taken]
                else:  # conflict or throttling: back off and try the same chunk again
                    self._sleep(min(2.0, 0.05 * 2**attempt))
                continue
            report.stored += len(chunk)
            report.buckets.update(bucket_updates)
            report.write_units += sum(c.get("CapacityUnits", 0) for c in reply.get("ConsumedCapacity", []))
            self._add_authors(chunk)
            return
        raise RuntimeError(f"could not store {len(chunk)} mentions after {MAX_TRANSACTION_TRIES} tries")

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
                self._db.update_item(
                    TableName=self.table,
                    Key=_key(f"BRAND#{brand}", f"BUCKET#{start.isoformat()}"),
                    UpdateExpression="ADD negative_authors :authors",
                    ConditionExpression="attribute_not_exists(negative_authors) OR size(negative_authors) < :cap",
                    ExpressionAttributeValues={
                        ":authors": {"SS": sorted(authors)},
                        ":cap": {"N": str(AUTHORS_PER_BUCKET)},
                    },
                )
            except ClientError as exc:
                count("AuthorsCapped", 1)
                if not table.condition_failed(exc):
                    logger.warning("negative authors not added", extra={"brand": brand, "error": str(exc)[:300]})

    def _transaction_items(self, chunk: list[Mention]) -> tuple[list[Any], list[datetime]]:
        items: list[Any] = []
        per_bucket: dict[tuple[str, datetime], list[Mention]] = defaultdict(list)
        for mention in chunk:
            pk, sk = _mention_key(mention)
            item = self._mention_item(mention, pk, sk)
            items.append(
                {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
            # the post's own identity (source and id), whatever its timestamp says this time: one post, one count
            guard = {**_key(*_seen_key(mention)), "expires_at": item["expires_at"]}
            items.append(
                {"Put": {"TableName": self.table, "Item": guard, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
            per_bucket[(mention.brand, bucket_start(mention.created_at))].append(mention)
        for (brand, start), members in per_bucket.items():
            items.append({"Update": self._bucket_update(brand, start, members)})
        return items, [start for _, start in per_bucket]

    def _mention_item(self, mention: Mention, pk: str, sk: str) -> dict[str, Any]:
        """The mention as one JSON document attribute: a few attributes keep writes lean (and moto fast)."""
        body = mention.model_dump_json(exclude={"brand"}, exclude_none=True)
        return {
            "pk": {"S": pk},
            "sk": {"S": sk},
            "m": {"S": body},
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
            "TableName": self.table,
            "Key": _key(f"BRAND#{brand}", f"BUCKET#{start.isoformat()}"),
            "UpdateExpression": expression + " SET expires_at = :exp",
            "ExpressionAttributeNames": {"#total": "total"},
            "ExpressionAttributeValues": values,
        }

    def buckets(self, brand: str, start: datetime, end: datetime) -> list[Bucket]:
        """The brand's buckets with ``start <= bucket start < end``, oldest first (missing = no mentions)."""
        items = self._query(
            f"BRAND#{brand}", None, between=(f"BUCKET#{start.isoformat()}", f"BUCKET#{end.isoformat()}")
        )
        return [b for b in (_bucket_from_item(brand, item) for item in items) if b.start < end]

    def buckets_at(self, wanted: Sequence[tuple[str, datetime]]) -> dict[tuple[str, datetime], Bucket]:
        """The stored buckets among (brand, start) pairs, 100 keys per BatchGetItem (absent = no mentions)."""
        keys = [_key(f"BRAND#{brand}", f"BUCKET#{start.isoformat()}") for brand, start in wanted]
        found: dict[tuple[str, datetime], Bucket] = {}
        for item in self._batch_get(keys, consistent=True):
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
            for item in self._query(f"MENTIONS#{brand}#{day.isoformat()}", None, between=(_stamp(start), _stamp(end))):
                try:
                    out.append(_mention_from_item(brand, item))
                except ValueError as exc:  # a ValidationError, or not JSON at all
                    errors.append(exc)
            day += timedelta(days=1)
        if errors:
            unreadable("mention", "stored mentions unreadable: left out", errors[0], len(errors), brand=brand,
                       count=len(errors))  # fmt: skip
        return [m for m in out if start <= m.created_at < end]

    # ------------------------------------------------------------ detector state and incidents

    def unobserved_brands(self) -> set[str]:
        """Brands whose every polled source is silent, as the dispatcher last saw them."""
        return {brand for item in self._query("WATCH", "UNOBSERVED") for brand in item["brands"]["SS"]}

    def set_unobserved_brands(self, brands: set[str]) -> None:
        """Replaces the set (the dispatcher is its only writer); an empty set deletes the item."""
        if brands:
            item = {**_key("WATCH", "UNOBSERVED"), "brands": {"SS": sorted(brands)}, "updated_at": {"S": _now_iso()}}
            self._db.put_item(TableName=self.table, Item=item)
        else:
            self._db.delete_item(TableName=self.table, Key=_key("WATCH", "UNOBSERVED"))

    def detector_states(self, brands: Sequence[str]) -> dict[str, bytes | None]:
        """Each brand's detector state JSON (None if it has none yet; empty if the stored bytes do not
        decompress: the caller rebuilds that brand's state), 100 per BatchGetItem."""
        found: dict[str, bytes | None] = dict.fromkeys(brands)
        for item in self._batch_get([_key(f"BRAND#{b}", "DETECTOR") for b in brands], consistent=True):
            try:
                state = zlib.decompress(item["state"]["B"])
            except zlib.error:
                state = b""
            found[item["pk"]["S"].removeprefix("BRAND#")] = state
        return found

    def save_detector_states(self, states: dict[str, bytes]) -> None:
        """Saves every brand's state, compressed (~1.8 KB instead of ~7.4 KB: 2 WRU instead of 8), in batches of
        25. Unconditional: the detector function is the single writer (ReservedConcurrentExecutions: 1)."""
        self._batch_put([{"pk": {"S": f"BRAND#{brand}"}, "sk": {"S": "DETECTOR"},
                          "state": {"B": zlib.compress(state, 6)}} for brand, state in states.items()])  # fmt: skip

    def record_transition(self, brand: str, incident_id: str, kind: str, bucket: datetime, incident: str,
                          resolved: bool) -> bool:  # fmt: skip
        """Stores the incident and one event per transition; False if this exact event was stored before."""
        event_key = _key(f"BRAND#{brand}", f"EVENT#{incident_id}#{kind}#{bucket.isoformat()}")
        outbox = {**_key("OUTBOX", f"{bucket.isoformat()}#{incident_id}#{kind}"), "brand": {"S": brand},
                  "kind": {"S": kind}, "incident": {"S": incident}}  # fmt: skip
        # only the event's own condition means "stored before"; throttling and conflicts are retried, then raised
        return table.transact(self._db, [
            {"Put": {"TableName": self.table, "Item": {**event_key, "incident": {"S": incident},
                                                        "kind": {"S": kind}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self.table, "Item": outbox}},
            {"Put": {"TableName": self.table, "Item": {
                **_key(f"BRAND#{brand}", f"INCIDENT#{incident_id}"), "incident": {"S": incident},
                "status": {"S": "resolved" if resolved else "open"}}}},
        ], guards=(0,), sleep=self._sleep)  # fmt: skip

    def incidents(self, brand: str) -> list[str]:
        """The brand's incidents as JSON, oldest first."""
        return [item["incident"]["S"] for item in self._query(f"BRAND#{brand}", "INCIDENT#")]

    # ------------------------------------------------------------ alerting

    def outbox(self) -> list[OutboxEvent]:
        """Incident transitions stored by the detector and not yet handled by the notifier, oldest first."""
        return [OutboxEvent(item["sk"]["S"], item["brand"]["S"], item["kind"]["S"], item["incident"]["S"])
                for item in self._query("OUTBOX", None)]  # fmt: skip

    def clear_outbox(self, keys: Sequence[str]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": _key("OUTBOX", k)}} for k in keys])

    def alert_state(self, incident_id: str) -> tuple[str, int] | None:
        """The incident's alert state JSON and its version."""
        item = self._db.get_item(TableName=self.table, Key=_key("ALERTS", incident_id), ConsistentRead=True).get("Item")
        return (item["state"]["S"], int(item["version"]["N"])) if item else None

    def open_alert_states(self) -> list[tuple[str, str, int]]:
        """(incident id, alert state JSON, version) of incidents not yet resolved (the tick reads these)."""
        return [(item["sk"]["S"], item["state"]["S"], int(item["version"]["N"])) for item in self._query("ALERTS", None)
                if item.get("status", {}).get("S") == "open"]  # fmt: skip

    def save_alert_state(self, incident_id: str, state: str, version: int, *, resolved: bool) -> bool:
        """Writes version ``version + 1`` if the stored one is still ``version`` (0: none); False otherwise."""
        item = {**_key("ALERTS", incident_id), "state": {"S": state}, "version": {"N": str(version + 1)},
                "status": {"S": "resolved" if resolved else "open"}}  # fmt: skip
        if resolved:
            item["expires_at"] = {"N": str(int(time.time()) + 30 * 86400)}
        condition = "attribute_not_exists(pk)" if version == 0 else "version = :v"
        values: dict[str, Any] = {} if version == 0 else {"ExpressionAttributeValues": {":v": {"N": str(version)}}}
        return table.write_if(
            self._db.put_item, TableName=self.table, Item=item, ConditionExpression=condition, **values
        )

    def claim_delivery(self, incident_id: str, step: str, recipient: str, *, payload: str,
                       held_until: datetime | None = None) -> str:  # fmt: skip
        """Claims one message: ``claimed`` (send it), or the status of the earlier claim (``sending``, ``sent``,
        ``held``, ``failed``): it is someone else's. Held messages also get a ``HELD`` index item."""
        key = _key(f"DELIVERY#{incident_id}", f"{step}#{recipient}")
        claim = uuid.uuid4().hex  # ours: recognised if the claim took effect but its answer was lost
        # a failed earlier attempt may be retried (SQS redelivers the batch) until it has failed
        # MAX_DELIVERY_ATTEMPTS times; an Update (not a Put) keeps the failure count
        actions: list[Any] = [{"Update": {
            "TableName": self.table, "Key": key,
            "UpdateExpression": "SET #s = :status, payload = :p, claimed_at = :t, expires_at = :e, claim = :claim",
            "ConditionExpression": "attribute_not_exists(pk) OR (#s = :failed AND failures < :max)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":status": {"S": "held" if held_until else "sending"}, ":p": {"S": payload}, ":t": {"S": _now_iso()},
                ":e": {"N": str(int(time.time()) + 30 * 86400)}, ":failed": {"S": "failed"},
                ":max": {"N": str(MAX_DELIVERY_ATTEMPTS)}, ":claim": {"S": claim},
            },
        }}]  # fmt: skip
        if held_until is not None:
            held = {**_key("HELD", f"{held_until.astimezone(UTC).isoformat()}#{incident_id}#{step}#{recipient}"),
                    "payload": {"S": payload}}  # fmt: skip
            actions.append({"Put": {"TableName": self.table, "Item": held}})
        try:
            if table.transact(self._db, actions, guards=(0,), sleep=self._sleep):
                return "claimed"
        except (ClientError, BotoCoreError):  # did it take effect before failing (a timeout)? the token says
            found = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            if found and found.get("claim", {}).get("S") == claim:
                return "claimed"
            raise
        found = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return found["status"]["S"] if found else "sending"

    def sent_deliveries(self, incident_id: str) -> list[tuple[str, str]]:
        """(step, recipient key) of every message sent about the incident."""
        keys = [item["sk"]["S"].partition("#") for item in self._query(f"DELIVERY#{incident_id}", None)
                if item.get("status", {}).get("S") == "sent"]  # fmt: skip
        return [(step, recipient) for step, _, recipient in keys]

    def finish_delivery(self, incident_id: str, step: str, recipient: str, status: str, detail: str = "") -> None:
        """Marks a claimed message ``sent`` (detail: the provider's message id) or ``failed`` (detail: why)."""
        self._db.update_item(
            TableName=self.table, Key=_key(f"DELIVERY#{incident_id}", f"{step}#{recipient}"),
            UpdateExpression="SET #s = :s, detail = :d, finished_at = :t ADD failures :f",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":d": {"S": detail[:500]}, ":t": {"S": _now_iso()},
                                       ":f": {"N": "1" if status == "failed" else "0"}},
        )  # fmt: skip

    def due_held(self, now: datetime) -> list[tuple[str, str]]:
        """(held key, payload) of held messages whose release time has come."""
        upper = now.astimezone(UTC).isoformat() + "~"
        return [(item["sk"]["S"], item["payload"]["S"])
                for item in self._query("HELD", None, between=("0", upper))]  # fmt: skip

    def release_held(self, held_key: str, incident_id: str, step: str, recipient: str) -> bool:
        """Moves a held message to ``sending`` (once: False if another invocation released it first)."""
        if table.transact(self._db, [
            {"Update": {"TableName": self.table, "Key": _key(f"DELIVERY#{incident_id}", f"{step}#{recipient}"),
                        "UpdateExpression": "SET #s = :sending", "ConditionExpression": "#s = :held",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":sending": {"S": "sending"}, ":held": {"S": "held"}}}},
            {"Delete": {"TableName": self.table, "Key": _key("HELD", held_key)}},
        ], guards=(0,), sleep=self._sleep):  # fmt: skip
            return True
        # released by another invocation (no longer held): only the index item is left to clear
        self._db.delete_item(TableName=self.table, Key=_key("HELD", held_key))
        return False

    def take_lease(self, what: str, owner: str, seconds: float, *, now: float | None = None) -> bool:
        """Holds ``what`` (e.g. the detector's single-writer lease) for ``seconds``: True when it was free,
        expired or already ours. ``now`` (Unix seconds): a simulation's clock; wall time by default."""
        now = time.time() if now is None else now
        return table.write_if(
            self._db.put_item,
            TableName=self.table,
            Item={**_key(f"LEASE#{what}", "LEASE"), "owner": {"S": owner},
                  "until": {"N": f"{now + seconds:.3f}"}, "expires_at": {"N": str(int(now + seconds) + 86400)}},
            ConditionExpression="attribute_not_exists(pk) OR #until < :now OR #owner = :me",
            ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
            ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}, ":me": {"S": owner}},
        )  # fmt: skip

    def release_lease(self, what: str, owner: str, *, now: float | None = None) -> None:
        """Lets ``what`` go if we still hold it (a put that expires it, so no delete permission is needed)."""
        now = time.time() if now is None else now
        table.write_if(
            self._db.put_item,
            TableName=self.table,
            Item={**_key(f"LEASE#{what}", "LEASE"), "owner": {"S": owner}, "until": {"N": "0"},
                  "expires_at": {"N": str(int(now) + 86400)}},
            ConditionExpression="#owner = :me",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":me": {"S": owner}},
        )  # fmt: skip

    def claim_once(self, what: str, ttl_seconds: int) -> bool:
        """True the first time ``what`` is claimed (a daily summary, a notice to the operator)."""
        return table.write_if(self._db.put_item, TableName=self.table, Item={**_key(f"CLAIM#{what}", "CLAIM"),
                              "expires_at": {"N": str(int(time.time()) + ttl_seconds)}},
                              ConditionExpression="attribute_not_exists(pk)")  # fmt: skip

    def take_sms_budget(self, recipient: str, day: str, parts: int, *, per_recipient: int, per_day: int) -> bool:
        """Counts ``parts`` SMS parts against the recipient's and the whole day's caps, atomically; False (and
        nothing counted) when either cap would be exceeded."""
        expires = {"N": str(int(time.time()) + 3 * 86400)}

        def counter(who: str, cap: int) -> Any:
            return {"Update": {"TableName": self.table, "Key": _key(f"CLAIM#sms#{day}#{who}", "CLAIM"),
                               "UpdateExpression": "ADD parts :n SET expires_at = :e",
                               "ConditionExpression": "attribute_not_exists(parts) OR parts <= :room",
                               "ExpressionAttributeValues": {":n": {"N": str(parts)}, ":e": expires,
                                                             ":room": {"N": str(cap - parts)}}}}  # fmt: skip

        # False only when a cap's own condition refused it; throttling is retried, then raised (never "cap reached")
        return table.transact(self._db, [counter(recipient, per_recipient), counter("all", per_day)], guards=(0, 1),
                              sleep=self._sleep)  # fmt: skip

    def put_link(self, link_id: str, record: str, expires_at: datetime) -> None:
        self._db.put_item(TableName=self.table, Item={**_key(f"LINK#{link_id}", "LINK"), "record": {"S": record},
                          "expires_at": {"N": str(int(expires_at.timestamp()))}},
                          ConditionExpression="attribute_not_exists(pk)")  # fmt: skip

    def get_link(self, link_id: str) -> str | None:
        item = self._db.get_item(TableName=self.table, Key=_key(f"LINK#{link_id}", "LINK"), ConsistentRead=True)
        return item["Item"]["record"]["S"] if "Item" in item else None

    def mark_opted_out(self, recipient: str) -> bool:
        """Records that an SMS recipient replied STOP; True the first time (tell the operator once)."""
        return self.claim_once(f"optout#{recipient}", ttl_seconds=365 * 86400)

    def opted_out(self, recipients: Sequence[str]) -> set[str]:
        keys = [_key(f"CLAIM#optout#{r}", "CLAIM") for r in recipients]
        return {item["pk"]["S"].removeprefix("CLAIM#optout#") for item in self._batch_get(keys, consistent=True)}

    def clear_opted_out(self, recipient: str) -> None:
        """The recipient texted START: SMS may reach them again."""
        self._db.delete_item(TableName=self.table, Key=_key(f"CLAIM#optout#{recipient}", "CLAIM"))

    # ------------------------------------------------------------ push replay guard

    def nonce_seen(self, digest: str) -> bool:
        """Whether a signed request was already accepted (its nonce claimed)."""
        key = {"pk": {"S": f"NONCE#{digest}"}, "sk": {"S": "NONCE"}}
        return "Item" in self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True)

    def claim_nonce(self, digest: str, ttl_seconds: int) -> bool:
        """True the first time a signed request is seen; False for a replay of it."""
        return table.write_if(
            self._db.put_item,
            TableName=self.table,
            Item={
                "pk": {"S": f"NONCE#{digest}"},
                "sk": {"S": "NONCE"},
                "expires_at": {"N": str(int(time.time()) + ttl_seconds)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    # ------------------------------------------------------------ helpers

    def _batch_get(self, keys: Sequence[dict[str, Any]], *, consistent: bool = False, projection: str | None = None,
                   report: StoreReport | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Items for ``keys`` (absent ones are left out): BatchGetItem of 100, unprocessed keys retried with backoff."""
        items: list[dict[str, Any]] = []
        for chunk in chunked(list(keys), BATCH_GET_LIMIT):
            spec: dict[str, Any] = {"Keys": list(chunk), "ConsistentRead": consistent}
            if projection:
                spec["ProjectionExpression"] = projection
            request: dict[str, Any] = {self.table: spec}
            for attempt in range(MAX_TRANSACTION_TRIES):
                reply = self._db.batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
                if report is not None:
                    report.read_units += sum(c.get("CapacityUnits", 0) for c in reply.get("ConsumedCapacity", []))
                items.extend(reply.get("Responses", {}).get(self.table, []))
                request = reply.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(min(2.0, 0.05 * 2**attempt))
            if request:
                raise RuntimeError(
                    f"BatchGetItem left keys unprocessed after {MAX_TRANSACTION_TRIES} tries (throttled)"
                )
        return items

    def _query(self, pk: str, prefix: str | None, between: tuple[str, str] | None = None) -> Iterator[Any]:
        values: dict[str, Any] = {":pk": {"S": pk}}
        condition = "pk = :pk"
        if prefix is not None:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": prefix}
        elif between is not None:
            condition += " AND sk BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = {"S": between[0]}, {"S": between[1]}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            reply = self._db.query(**kwargs)
            yield from reply.get("Items", [])
            if "LastEvaluatedKey" not in reply:
                return
            kwargs["ExclusiveStartKey"] = reply["LastEvaluatedKey"]


def _brand_item(brand: Brand) -> dict[str, Any]:
    return {"pk": {"S": "BRANDS"}, "sk": {"S": f"BRAND#{brand.name}"}, "config": {"S": brand.model_dump_json()},
            "updated_at": {"S": _now_iso()}}  # fmt: skip


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _seen_key(mention: Mention) -> tuple[str, str]:
    """The guard of a post for a brand: its source and id only (a timestamp may change between fetches)."""
    digest = hashlib.blake2b(mention.key.encode(), digest_size=12).hexdigest()
    return f"SEEN#{mention.brand}#{digest}", "SEEN"


def _mention_key(mention: Mention) -> tuple[str, str]:
    digest = hashlib.blake2b(mention.key.encode(), digest_size=10).hexdigest()
    created = _stamp(mention.created_at)
    return f"MENTIONS#{mention.brand}#{created[:10]}", f"{created}#{digest}"


def _stamp(moment: datetime) -> str:
    """Fixed-width UTC time, so that sort keys order as times do."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _bucket_from_item(brand: str, item: dict[str, Any]) -> Bucket:
    return Bucket(
        brand=brand, start=datetime.fromisoformat(item["sk"]["S"].removeprefix("BUCKET#")),
        total=int(item["total"]["N"]), negative=int(item["negative"]["N"]), neutral=int(item["neutral"]["N"]),
        positive=int(item["positive"]["N"]), negative_authors=len(item.get("negative_authors", {}).get("SS", [])),
        engagement=int(item["engagement"]["N"]),
    )  # fmt: skip


def _mention_from_item(brand: str, item: dict[str, Any]) -> Mention:
    return Mention.model_validate({**json.loads(item["m"]["S"]), "brand": brand})


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


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
