"""One detector cycle over many brands, through the real handler, with state in (in-process moto) DynamoDB.

    python -m benchmarks.detector_benchmark [--brands 1000]

Setup (not timed): every brand gets a warm state (a day of history, learned once and copied) and one new
5-minute bucket. Timed: the handler's cycle: list brands, read states (BatchGetItem), read new buckets (Query),
decide for all brands at once, save states (conditional PutItem). Also: the same cycle without DynamoDB.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import zlib
from datetime import timedelta
from typing import Any

import boto3
import numpy as np
from moto import mock_aws

from groundswell.domain.detection.cycle import STATE, BrandState, run_cycle
from groundswell.domain.models import Bucket, bucket_start
from groundswell.observability import logger
from infra.lambda_runtime import LambdaContext
from infra.moto_patches import patch_moto_transactions
from infra.scenario import demo_start
from infra.template_resources import provision


def warm_state(rng: np.random.Generator) -> BrandState:
    state = BrandState()
    start = demo_start()
    totals = rng.poisson(8, 288)
    negatives = rng.binomial(totals, 0.25)
    moments = [start + timedelta(minutes=5 * i) for i in range(288)]
    state.detector.scan(moments, totals.tolist(), negatives.tolist(), negatives.tolist())
    state.last_bucket = start + timedelta(minutes=5 * 287)
    return state


class MemoryBuckets:
    def __init__(self, bucket: Bucket):
        self.bucket = bucket

    def buckets(self, brand: str, start: Any, end: Any) -> list[Bucket]:
        return [self.bucket.model_copy(update={"brand": brand})]

    def buckets_at(self, wanted: Any) -> dict[Any, Bucket]:
        return {(b, m): self.bucket.model_copy(update={"brand": b}) for b, m in wanted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brands", type=int, default=1000)
    count = parser.parse_args().brands
    import os

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    patch_moto_transactions()
    logger.setLevel("ERROR")
    rng = np.random.default_rng(1)
    state = warm_state(rng)
    raw_state = STATE.dump_json(state).decode()
    new_bucket = bucket_start(demo_start() + timedelta(days=1))
    now = new_bucket + timedelta(minutes=10)
    names = [f"brand-{i:05d}" for i in range(count)]

    began = time.perf_counter()
    run_cycle(
        {n: STATE.validate_json(raw_state) for n in names},
        now,
        MemoryBuckets(Bucket(brand="x", start=new_bucket, total=9, negative=3, negative_authors=3)),
    )
    compute = time.perf_counter() - began

    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        session = boto3.Session(region_name="us-east-1")
        resources = provision(session, prefix="detbench")
        os.environ.update(resources.environment(), AWS_DEFAULT_REGION="us-east-1")
        from functions.detect_spikes import app
        from groundswell.runtime import store
        from infra.brand_files import parse_brands

        repo = store()
        repo.brands.put_many(
            parse_brands([{"name": n, "terms": {"keywords": [n]}, "sources": [{"type": "hackernews"}]} for n in names])
        )
        db = session.client("dynamodb")
        for name in names:
            db.put_item(
                TableName=repo.table.name,
                Item={
                    "pk": {"S": f"BRAND#{name}"},
                    "sk": {"S": "DETECTOR"},
                    "state": {"B": zlib.compress(raw_state.encode())},
                },
            )
            db.put_item(
                TableName=repo.table.name,
                Item={
                    "pk": {"S": f"BRAND#{name}"},
                    "sk": {"S": f"BUCKET#{new_bucket.isoformat()}"},
                    "total": {"N": "9"},
                    "negative": {"N": "3"},
                    "neutral": {"N": "4"},
                    "positive": {"N": "2"},
                    "engagement": {"N": "12"},
                    "negative_authors": {"SS": ["a1", "a2", "a3"]},
                },
            )
        began = time.perf_counter()
        result = app.handler({"now": now.isoformat()}, LambdaContext("detect_spikes"))
        handler_s = time.perf_counter() - began
    print(f"{count:,} brands, one new bucket each; state {len(raw_state):,} bytes per brand")
    print(f"cycle without DynamoDB (decisions, FDR, incidents): {compute:.2f} s")
    print(f"detect_spikes handler against in-process moto:      {handler_s:.2f} s  ({result})")


if __name__ == "__main__":
    main()
