"""A viral burst: 100,000 mentions of one brand inside one 5-minute interval, through the push endpoint (the
real handler, signed batches of 1,000) and through a poll (the replay source, 20,000 lines per poll), on
in-process moto.

    python -m benchmarks.viral_burst [--mentions 100000]

Prints, for each path: mentions stored and counted in the buckets (must equal the mentions sent), wall time,
peak Python memory (tracemalloc, the emulator's table included, so it grows with what is stored), the largest
one request's or poll's own peak (above what was held before it: what the function needs, first and last
request apart, to show it does not grow with the burst) and the largest DynamoDB transaction, batch write and
batch get it made (DynamoDB's limits: 100 actions, 25 items, 100 keys).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from groundswell.observability import logger
from infra.lambda_runtime import LambdaContext
from infra.moto_patches import patch_moto_transactions
from infra.scenario import demo_start
from infra.template_resources import provision


class Limits:
    """Wraps the DynamoDB client: the largest request of each kind."""

    def __init__(self, client: Any):
        self._client = client
        self.largest = {"transact_write_items": 0, "batch_write_item": 0, "batch_get_item": 0}

    def transact_write_items(self, **kwargs: Any) -> Any:
        self._note("transact_write_items", len(kwargs["TransactItems"]))
        return self._client.transact_write_items(**kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        self._note("batch_write_item", sum(len(v) for v in kwargs["RequestItems"].values()))
        return self._client.batch_write_item(**kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        self._note("batch_get_item", sum(len(v["Keys"]) for v in kwargs["RequestItems"].values()))
        return self._client.batch_get_item(**kwargs)

    def _note(self, kind: str, size: int) -> None:
        self.largest[kind] = max(self.largest[kind], size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def records(n: int, prefix: str) -> list[dict[str, Any]]:
    start = demo_start() + timedelta(hours=1)
    return [
        {
            "id": f"{prefix}-{i}",
            "created_at": (start + timedelta(seconds=i * 290 / n)).isoformat(),
            "text": f"Bench Air cancelled my flight again, stuck at the gate #{i % 97}",
            "author": f"user{i % 40_000}",
            "likes": i % 7,
            "sentiment": "negative" if i % 3 else "neutral",
        }
        for i in range(n)
    ]


@contextmanager
def _own_peak(found: list[int]) -> Iterator[None]:
    """Appends the block's own peak traced memory: above what was held when it began."""
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    yield
    found.append(tracemalloc.get_traced_memory()[1] - held)


def counted(store: Any, brand: str) -> int:
    start = demo_start()
    return sum(b.total for b in store.mentions.buckets(brand, start, start + timedelta(hours=3)))


def through_push(n: int) -> dict[str, Any]:
    from functions.ingest_push import app
    from groundswell.domain.models import Brand
    from groundswell.domain.push import SIGNATURE_HEADER, sign
    from groundswell.runtime import push_key, store

    store().brands.put(
        Brand.model_validate(
            {"name": "push-air", "terms": {"keywords": ["bench air"]}, "sources": [{"type": "hackernews"}]}
        )
    )
    limits = Limits(store().table.db)
    store().table.db = limits  # type: ignore[assignment]
    rows, key = records(n, "push"), push_key()
    tracemalloc.start()
    began = time.perf_counter()
    statuses = set()
    own: list[int] = []
    for offset in range(0, n, 1000):
        body = json.dumps({"brand": "push-air", "mentions": rows[offset : offset + 1000]}).encode()
        event = {
            "requestContext": {"http": {"method": "POST"}},
            "body": body.decode(),
            "headers": {SIGNATURE_HEADER: sign(key, body, int(time.time()))},
        }
        with _own_peak(own):
            statuses.add(app.handler(event, LambdaContext())["statusCode"])
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "path": "push (1,000 per signed request)",
        "sent": n,
        "counted": counted(store(), "push-air"),
        "statuses": sorted(statuses),
        "seconds": seconds,
        "peak_mb": peak / 2**20,
        "own_mb": [own[0] / 2**20, max(own) / 2**20, own[-1] / 2**20],
        **limits.largest,
    }


def through_poll(n: int) -> dict[str, Any]:
    from groundswell.adapters.sources.replay import ReplayFeed
    from groundswell.domain.listening import poll_once
    from groundswell.domain.models import Brand
    from groundswell.runtime import scorer, store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "burst.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records(n, "poll")), encoding="utf-8")
        brand = Brand.model_validate(
            {
                "name": "poll-air",
                "terms": {"keywords": ["bench air"]},
                "sources": [{"type": "replay", "uri": str(path)}],
            }
        )
        store().brands.put(brand)
        limits = Limits(store().table.db)
        store().table.db = limits  # type: ignore[assignment]
        now = demo_start() + timedelta(hours=2)
        tracemalloc.start()
        began = time.perf_counter()
        polls = 0
        own: list[int] = []
        while True:
            with _own_peak(own):
                report = poll_once(brand, ReplayFeed(), repository=store(), scorer=scorer(), now=now)
            polls += 1
            if not report.truncated:
                break
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "path": f"poll (replay source, {polls} polls)",
        "sent": n,
        "counted": counted(store(), "poll-air"),
        "statuses": [],
        "seconds": seconds,
        "peak_mb": peak / 2**20,
        "own_mb": [own[0] / 2**20, max(own) / 2**20, own[-1] / 2**20],
        **limits.largest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    n = parser.parse_args().mentions
    patch_moto_transactions()
    logger.setLevel("ERROR")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        resources = provision(boto3.Session(region_name="us-east-1"), prefix="burst")
        os.environ.update(resources.environment())
        print(f"{n:,} mentions of one brand within one 5-minute interval, in-process moto")
        print(
            f"{'path':<36}{'counted':>10}{'s':>8}{'/s':>8}{'peak MB':>9}{'one call MB (first/max/last)':>30}"
            f"{'txn':>5}{'bw':>4}{'bg':>5}"
        )
        for result in (through_push(n), through_poll(n)):
            exact = "exact" if result["counted"] == result["sent"] else f"WRONG ({result['sent']:,} sent)"
            print(
                f"{result['path']:<36}{result['counted']:>10,}{result['seconds']:>8.0f}"
                f"{result['sent'] / result['seconds']:>8,.0f}{result['peak_mb']:>9.0f}"
                f"{'/'.join(f'{mb:.0f}' for mb in result['own_mb']):>30}"
                f"{result['transact_write_items']:>5}{result['batch_write_item']:>4}{result['batch_get_item']:>5}"
                f"  {exact} {result['statuses'] or ''}"
            )
        print("limits: transaction <= 100 actions, batch write <= 25 items, batch get <= 100 keys")


if __name__ == "__main__":
    main()
