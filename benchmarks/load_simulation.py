"""Load simulation: many brands through the real handlers on in-process moto, every 5 simulated minutes.

    python -m benchmarks.load_simulation [--brands 1000] [--hours 24] [--mentions-per-day 100]

Each brand has a generated replay source (docs/mention-format.md); each step runs the dispatcher, the poller
(SQS batches of 5, as the template's event source), the detector cycle over all brands, the notifier's drain
and tick. Prints the wall time per step by stage and the throughput; counts are checked exactly once. Moto is
far slower than DynamoDB and SQS (docs/benchmarks.md), so the figures bound the code's own cost from above.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from infra.lambda_runtime import LambdaContext, drain_queue
from infra.scenario import BrandScenario, demo_start, generate, write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--mentions-per-day", type=int, default=100, help="per brand, on average")
    args = parser.parse_args()
    import os

    import boto3
    from moto import mock_aws

    from infra.moto_patches import patch_moto_transactions
    from infra.template_resources import provision

    patch_moto_transactions()
    start = demo_start()
    per_bucket = args.mentions_per_day / 288 / 0.575  # diurnal() averages ~0.575
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        brands, expected = [], 0
        for i in range(args.brands):
            name = f"brand-{i:05d}"
            records = generate(BrandScenario(name, name, per_bucket=per_bucket), start, args.hours, seed=i)
            expected += len(records)
            path = write_jsonl(records, Path(tmp) / f"{name}.jsonl")
            brands.append(
                {
                    "name": name,
                    "terms": {"keywords": [name]},
                    "recipients": [],
                    "sources": [{"type": "replay", "uri": str(path)}],
                }
            )
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_METRICS_NAMESPACE": "Groundswell",
            }
        )
        session = boto3.Session(region_name="us-east-1")
        resources = provision(session, prefix="load")
        os.environ.update(resources.environment())
        totals = run(brands, resources, session, start, args.hours)
    steps = args.hours * 12
    wall = sum(totals.values())
    print(
        f"{args.brands:,} brands x {steps} steps of 5 simulated minutes; {expected:,} mentions generated "
        f"({args.mentions_per_day}/brand/day); in-process moto, one process"
    )
    for stage, seconds in totals.items():
        print(f"  {stage:<10}{seconds:>9.1f} s  {seconds / steps * 1000:>9.0f} ms/step")
    print(
        f"  {'total':<10}{wall:>9.1f} s  {wall / steps:>9.2f} s/step  "
        f"({args.brands * steps / wall:,.0f} brand-polls/s, {expected / totals['poll']:,.0f} mentions/s polled)"
    )


def run(brands: list[dict[str, Any]], resources: Any, session: Any, start: Any, hours: int) -> dict[str, float]:
    from functions.detect_spikes import app as detect_app
    from functions.dispatch_polls import app as dispatch_app
    from functions.notify import app as notify_app
    from functions.poll_mentions import app as poll_app
    from groundswell import runtime
    from groundswell.observability import logger
    from infra.brand_files import parse_brands

    for cached in (runtime.store, runtime.notifier, runtime.source):
        cached.cache_clear()
    logger.setLevel("ERROR")
    runtime.store().brands.put_many(parse_brands(brands, "load"))
    sqs = session.client("sqs")
    totals = dict.fromkeys(("dispatch", "poll", "detect", "notify"), 0.0)
    sink = io.StringIO()
    for step in range(1, hours * 12 + 1):
        clock = {"now": (start + timedelta(minutes=5 * step)).isoformat()}
        with contextlib.redirect_stdout(sink):
            began = time.perf_counter()
            dispatch_app.handler(clock, LambdaContext("dispatch_polls"))
            totals["dispatch"] += time.perf_counter() - began
            began = time.perf_counter()
            drain_queue(sqs, resources.queues["PollQueue"], poll_app.handler, batch_size=5)
            totals["poll"] += time.perf_counter() - began
            began = time.perf_counter()
            detect_app.handler(clock, LambdaContext("detect_spikes"))
            totals["detect"] += time.perf_counter() - began
            began = time.perf_counter()
            drain_queue(sqs, resources.queues["NotifyQueue"], notify_app.handler)
            notify_app.handler(clock, LambdaContext("notify"))
            totals["notify"] += time.perf_counter() - began
        sink.seek(0)
        sink.truncate()
        if step % 12 == 0:
            print(f"  hour {step // 12}: {sum(totals.values()):.0f} s so far", flush=True)
    end = start + timedelta(hours=hours)
    totals_counted = sum(
        sum(b.total for b in runtime.store().mentions.buckets(brand["name"], start, end)) for brand in brands
    )
    print(f"  mentions counted in the buckets of all brands: {totals_counted:,}", flush=True)
    opened = sum(len(runtime.store().incidents.history(brand["name"])) for brand in brands)
    print(f"  incidents opened (no swell was generated: each one is a false alert): {opened}", flush=True)
    return totals


if __name__ == "__main__":
    main()
