"""Monthly AWS cost per brand: 3 sources polled every 5 minutes, at low, medium and high mention volumes.

    python -m benchmarks.cost_model [--brands 100]

Work per poll and per mention comes from the benchmarks (each input below names the command that measured
it); prices are us-east-1 list prices (November 2026, arm64 Lambda, DynamoDB on-demand, no free tier).
Shared functions (dispatcher, detector, notifier tick) are split across ``--brands`` brands. SMS is listed
apart: it depends on incidents and recipients, not on volume.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# ---------------------------------------------------------------- prices (USD)
LAMBDA_GB_SECOND = 0.0000133334  # arm64
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMO_WRITE_UNIT = 0.625 / 1e6  # on-demand
DYNAMO_READ_UNIT = 0.125 / 1e6
DYNAMO_GB_MONTH = 0.25
SQS_REQUEST = 0.40 / 1e6
SCHEDULER_INVOCATION = 1.00 / 1e6
SES_EMAIL = 0.10 / 1000
LOGS_GB = 0.50  # CloudWatch Logs ingestion
SMS_PART_US = 0.00581 + 0.00302  # End User Messaging, US toll-free: message + carrier fee (varies by carrier)

# ---------------------------------------------------------------- measured work (command -> figure)
WRITE_UNITS_PER_MENTION = 4.146  # ingest_benchmark: 4,146 WRU per 1,000 mentions (mention + guard, transaction: x2)
READ_UNITS_PER_MENTION = 0.011  # ingest_benchmark: 11 RRU per 1,000 mentions
POLLER_CPU_PER_MENTION_S = 1 / 5409  # ingest_benchmark: poller code 5,409 mentions/s on a stub client
POLL_WAIT_S = 0.40  # assumed: one source round trip (HTTP) per poll; Lambda bills the waiting
DETECTOR_S_PER_BRAND = 3.4 / 1000  # detector_benchmark: 1,000 brands in 2.7-3.4 s per cycle (1,024 MB)
STATE_WRITE_UNITS = 2  # detector state ~1.8 KB compressed per brand per cycle (docs/storage.md)
MENTION_ITEM_BYTES = 700  # a stored mention: JSON attribute + keys (docs/storage.md)
BUCKET_ITEM_BYTES = 250
MENTION_TTL_DAYS, BUCKET_TTL_DAYS = 30, 400
LOG_BYTES_PER_POLL = 1500  # one "source polled" line + metrics (seen in the demo's lambda.log)

POLLS_PER_MONTH = 12 * 24 * 30
SOURCES = 3
POLLER_GB, DETECTOR_GB, DISPATCH_GB = 0.5, 1.0, 0.25


@dataclass(frozen=True)
class Volume:
    name: str
    mentions_per_day: int
    alert_emails_per_month: int  # 2 incidents a month x 2 email recipients x (open, reminders, all clear)


VOLUMES = (Volume("low", 100, 12), Volume("medium", 5_000, 16), Volume("high", 100_000, 24))


def monthly_cost(volume: Volume, brands: int) -> dict[str, float]:
    polls = SOURCES * POLLS_PER_MONTH
    mentions = volume.mentions_per_day * 30
    poller_seconds = polls * POLL_WAIT_S + mentions * POLLER_CPU_PER_MENTION_S
    lambda_cost = (
        poller_seconds * POLLER_GB * LAMBDA_GB_SECOND
        + polls * LAMBDA_REQUEST
        + POLLS_PER_MONTH * (DETECTOR_S_PER_BRAND * DETECTOR_GB * LAMBDA_GB_SECOND)
        # dispatcher (0.2 s), and the requests of dispatch, detect and the notifier tick, shared by all brands
        + POLLS_PER_MONTH * (0.2 * DISPATCH_GB * LAMBDA_GB_SECOND + 3 * LAMBDA_REQUEST) / brands
    )
    writes = mentions * WRITE_UNITS_PER_MENTION + polls * 1 + POLLS_PER_MONTH * STATE_WRITE_UNITS
    reads = mentions * READ_UNITS_PER_MENTION + polls * 2 + POLLS_PER_MONTH * 1.0  # cursor, brand, bucket keys
    stored_gb = (
        min(mentions, volume.mentions_per_day * MENTION_TTL_DAYS) * MENTION_ITEM_BYTES
        + 288 * BUCKET_TTL_DAYS * BUCKET_ITEM_BYTES
    ) / 1e9
    dynamo_cost = writes * DYNAMO_WRITE_UNIT + reads * DYNAMO_READ_UNIT + stored_gb * DYNAMO_GB_MONTH
    sqs_requests = polls * (0.1 + 2 * 0.2)  # batched sends of 10; receive + delete in batches of 5
    return {
        "lambda": lambda_cost,
        "dynamodb": dynamo_cost,
        "sqs": sqs_requests * SQS_REQUEST,
        "scheduler": 3 * POLLS_PER_MONTH * SCHEDULER_INVOCATION / brands,  # dispatch, detect, notifier tick
        "ses": volume.alert_emails_per_month * SES_EMAIL,
        "logs": polls * LOG_BYTES_PER_POLL / 1e9 * LOGS_GB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brands", type=int, default=100, help="brands sharing the deployment's fixed work")
    args = parser.parse_args()
    parts = list(monthly_cost(VOLUMES[0], args.brands))
    print(f"monthly USD per brand, {SOURCES} sources every 5 min, {args.brands} brands per deployment")
    print(f"{'volume':<8}{'mentions/day':>13}" + "".join(f"{p:>11}" for p in parts) + f"{'total':>11}")
    for volume in VOLUMES:
        cost = monthly_cost(volume, args.brands)
        print(
            f"{volume.name:<8}{volume.mentions_per_day:>13,}"
            + "".join(f"{cost[p]:>11.3f}" for p in parts)
            + f"{sum(cost.values()):>11.2f}"
        )
    parts_example = 2 * 2 * 4 + 30
    print(
        f"SMS, apart: {SMS_PART_US:.4f} USD per part (US); e.g. 2 incidents/month x 2 on-call x 4 messages + a "
        f"daily summary to 1 executive = {parts_example} parts = {parts_example * SMS_PART_US:.2f} USD"
    )
    print("fixed per deployment: 2 Secrets Manager secrets (0.80 USD), alarms (0.10 USD each), the dashboard (3 USD)")


if __name__ == "__main__":
    main()
