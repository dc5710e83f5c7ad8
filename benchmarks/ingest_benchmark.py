"""Throughput of the real poller code (replay source -> normalise -> score -> store exactly once) against
in-process moto, and the DynamoDB capacity it uses.

    python -m benchmarks.ingest_benchmark [--mentions 20000]

Prints, measured in one process on one core:
- mentions/s through ``poll_once`` in 5-minute polls (the production path), and the same for its parts
  (parse+normalise only, +score) as the in-process baselines;
- write and read request units per 1,000 mentions, computed from the item sizes actually written with
  DynamoDB's rules (1 WRU per started KB, x2 in a transaction; moto does not report capacity for
  transactions), and the reads moto reports;
- the cost of re-polling an overlap (every mention already stored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from groundswell.adapters.dynamo import open_store
from groundswell.adapters.sources.replay import ReplayFeed
from groundswell.domain.listening import poll_once
from groundswell.domain.models import Brand
from groundswell.domain.sentiment.complaints import ComplaintAwareVader
from groundswell.observability import logger
from infra.moto_patches import patch_moto_transactions
from infra.scenario import BrandScenario, demo_start, generate, write_jsonl
from infra.template_resources import provision


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB item size in bytes: attribute names plus values (strings UTF-8, numbers ~ digits/2 + 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        ((kind, raw),) = value.items()
        if kind == "S":
            size += len(raw.encode())
        elif kind == "N":
            size += math.ceil(len(raw.lstrip("-").replace(".", "")) / 2) + 1
        elif kind == "SS":
            size += sum(len(v.encode()) for v in raw) + 3
        else:
            size += 1
    return size


class CapacitySpy:
    """Wraps the DynamoDB client: counts transaction actions and reads the capacity moto reports."""

    def __init__(self, client: Any):
        self._client = client
        self.put_sizes: list[int] = []
        self.updates: Counter[tuple[str, str]] = Counter()
        self.read_units = 0.0
        self.other_writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        for action in kwargs["TransactItems"]:
            if "Put" in action:
                self.put_sizes.append(item_size(action["Put"]["Item"]))
            else:
                key = action["Update"]["Key"]
                self.updates[(key["pk"]["S"], key["sk"]["S"])] += 1
        return self._client.transact_write_items(**kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        reply = self._client.batch_get_item(**kwargs)
        self.read_units += sum(c.get("CapacityUnits", 0) for c in reply.get("ConsumedCapacity", []))
        return reply

    def get_item(self, **kwargs: Any) -> Any:
        self.read_units += 1  # strongly consistent, < 4 KB
        return self._client.get_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.other_writes += 1  # cursor: < 1 KB
        return self._client.update_item(**kwargs)

    def write_units(self) -> float:
        mentions = sum(2 * math.ceil(s / 1024) for s in self.put_sizes)
        buckets = 0
        for (pk, sk), count in self.updates.items():
            item = self._client.get_item(TableName=TABLE[0], Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
            buckets += count * 2 * math.ceil(item_size(item) / 1024)  # upper bound: the final size each time
        return mentions + buckets + self.other_writes


TABLE: list[str] = []


class StubDynamo:
    """Answers at once with success and remembers the cursor: what the poller code costs without an emulator."""

    def __init__(self) -> None:
        self.cursor: dict[str, Any] | None = None

    def get_item(self, **kwargs: Any) -> Any:
        return {"Item": self.cursor} if self.cursor and "CURSOR#" in kwargs["Key"]["sk"]["S"] else {}

    def update_item(self, **kwargs: Any) -> Any:
        values = kwargs["ExpressionAttributeValues"]
        if ":s" in values:
            self.cursor = {"state": values[":s"], "version": values[":next"]}
        return {"Attributes": {"failures": {"N": "1"}}}

    def __getattr__(self, name: str) -> Any:
        return lambda **kwargs: {}


def timed_polls(brand: Brand, store: Any, scorer: Any, start: Any, hours: int) -> tuple[float, int]:
    """Runs the production path, ``poll_once`` every 5 simulated minutes; returns (seconds, stored)."""
    feed = ReplayFeed()
    began = time.perf_counter()
    stored = 0
    for tick in range(1, hours * 12 + 1):
        report = poll_once(brand, feed, repository=store, scorer=scorer, now=start + timedelta(minutes=5 * tick))
        stored += report.stored
    return time.perf_counter() - began, stored


def moto_transaction_ceiling(session: Any, table: str, rounds: int = 20) -> float:
    """Items/s of moto's transact_write_items alone (99 conditional puts + 1 ADD per call)."""
    db = session.client("dynamodb")
    began = time.perf_counter()
    for i in range(rounds):
        items: list[Any] = [
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": f"CEIL#{i}"}, "sk": {"S": str(j)}, "m": {"S": "x" * 300}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for j in range(99)
        ]
        items.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "CEIL"}, "sk": {"S": str(i)}},
                    "UpdateExpression": "ADD #t :one",
                    "ExpressionAttributeNames": {"#t": "total"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        )
        db.transact_write_items(TransactItems=items)
    return rounds * 99 / (time.perf_counter() - began)


def run(mentions_wanted: int) -> None:
    patch_moto_transactions()
    logger.setLevel("ERROR")  # the poller logs a line per poll
    hours = 24
    per_bucket = mentions_wanted / (hours * 12) / 0.72  # diurnal() averages ~0.575; the swell adds ~25%
    scenario = BrandScenario(
        "bench-air", "Bench Air", per_bucket=per_bucket, crisis_start_hour=14, crisis_hours=6, crisis_multiplier=3
    )
    start = demo_start()
    records = generate(scenario, start, hours)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(records, Path(tmp) / "bench.jsonl")
        brand = Brand.model_validate(
            {
                "name": "bench-air",
                "terms": {"keywords": ["Bench Air"]},
                "sources": [{"type": "replay", "uri": str(path)}],
            }
        )
        n = len(records)
        print(f"{n:,} generated mentions over {hours} h in 5-minute polls ({hours * 12} polls); one process, one core")

        # baseline 1: read + parse + normalise only
        began = time.perf_counter()
        fetched = ReplayFeed(max_lines=10**9).fetch(brand, None, start + timedelta(hours=hours))
        parse_s = time.perf_counter() - began
        # baseline 2: + score
        scorer = ComplaintAwareVader()
        began = time.perf_counter()
        scorer.score([m.text for m in fetched.mentions])
        score_s = time.perf_counter() - began

        stub_store = open_store(StubDynamo(), "stub")  # type: ignore[arg-type]
        stub_s, _ = timed_polls(brand, stub_store, scorer, start, hours)

        with mock_aws():
            session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
            resources = provision(session, prefix="bench")
            TABLE[:] = [resources.tables["Table"]]
            spy = CapacitySpy(session.client("dynamodb"))
            store = open_store(spy, TABLE[0])  # type: ignore[arg-type]
            store.brands.put(brand)
            poll_s, stored = timed_polls(brand, store, scorer, start, hours)
            writes, reads = spy.write_units(), spy.read_units
            put_units = sum(2 * math.ceil(s / 1024) for s in spy.put_sizes)
            bucket_updates = sum(spy.updates.values())
            # re-poll everything from the start: all duplicates
            store.cursors.save(brand.name, "replay", {"line": 0}, store.cursors.load(brand.name, "replay").version)
            spy.read_units = 0
            began = time.perf_counter()
            again = poll_once(
                brand, ReplayFeed(max_lines=10**9), repository=store, scorer=scorer, now=start + timedelta(hours=hours)
            )
            repoll_s = time.perf_counter() - began
            counted = sum(b.total for b in store.mentions.buckets(brand.name, start, start + timedelta(hours=hours)))
            ceiling = moto_transaction_ceiling(session, TABLE[0])

        print(f"{'stage':<46}{'mentions/s':>12}")
        print(f"{'parse + normalise (baseline)':<46}{n / parse_s:>12,.0f}")
        print(f"{'score (default scorer, baseline)':<46}{n / score_s:>12,.0f}")
        print(f"{'poll_once, store on a stub client (no emulator)':<46}{n / stub_s:>12,.0f}")
        print(f"{'poll_once, store on in-process moto':<46}{n / poll_s:>12,.0f}")
        print(f"{'  moto transact_write_items alone (ceiling)':<46}{ceiling:>12,.0f}")
        print(f"share of the moto run spent outside the poller code: {1 - stub_s / poll_s:.0%}")
        print(
            f"stored {stored:,}, counted in buckets {counted:,}, duplicates on re-poll {again.duplicates:,} "
            f"(stored again: {again.stored})"
        )
        print(
            f"write request units per 1,000 mentions: {writes / n * 1000:,.0f} "
            f"(transactional mention puts {put_units / n * 1000:,.0f}; {len(spy.updates):,} bucket items "
            f"updated {bucket_updates:,} times; cursor writes)"
        )
        print(f"read request units per 1,000 mentions: {reads / n * 1000:,.0f} (pre-filter + cursor + brand)")
        print(
            f"re-polling all {n:,} already-stored mentions: {repoll_s:.2f} s, "
            f"{spy.read_units / n * 1000:,.0f} read units and no writes per 1,000"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=20_000)
    args = parser.parse_args()
    with contextlib.redirect_stdout(io.StringIO()) as metrics_lines:  # EMF metric lines
        run(args.mentions)
    print("\n".join(line for line in metrics_lines.getvalue().splitlines() if not line.startswith('{"_aws"')))


if __name__ == "__main__":
    main()
