"""What a DynamoDB failure means: the one place that reads its error codes and a cancelled transaction's
reasons, so that a throttled or conflicting write is never taken for "already stored", "released by someone
else" or "cap reached".

- **Condition failed**: a plain ``ConditionalCheckFailedException``, or a cancelled transaction whose reason on
  a *guarding* item is ``ConditionalCheckFailed`` (and no reason says throttling or a conflict): the thing is
  already done, or not allowed. The caller decides what that means.
- **Retryable**: throttling, a transaction conflict, an internal error: try again with backoff (botocore does
  not retry a cancelled transaction, whatever its reasons), and in the end raise, so that Lambda retries.
- Anything else (validation, access) is raised as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from botocore.exceptions import ClientError

TRANSACTION_TRIES = 6
RETRYABLE_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionConflictException", "TransactionInProgressException", "InternalServerError",
    "ServiceUnavailable",
})  # fmt: skip
RETRYABLE_REASONS = frozenset({
    "ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded", "RequestLimitExceeded",
    "InternalServerError",
})  # fmt: skip


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def reasons(exc: ClientError) -> list[str]:
    """The cancellation reason codes of a cancelled transaction, one per item ("None" for an item that did not
    cause it); empty for any other error."""
    return [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons", []) or []]


def retryable(exc: ClientError) -> bool:
    if _code(exc) in RETRYABLE_CODES:
        return True
    return _code(exc) == "TransactionCanceledException" and any(r in RETRYABLE_REASONS for r in reasons(exc))


def condition_failed(exc: ClientError, guards: Collection[int] | None = None) -> bool:
    """The write was refused by a condition (on one of ``guards``, the indexes of the items whose condition
    means "already done"; any item when None), and not by throttling or a conflict."""
    if _code(exc) == "ConditionalCheckFailedException":
        return True
    if _code(exc) != "TransactionCanceledException" or retryable(exc):
        return False
    failed = {i for i, code in enumerate(reasons(exc)) if code == "ConditionalCheckFailed"}
    return bool(failed) and (guards is None or failed <= set(guards))


def transact(
    db: Any,
    items: Sequence[dict[str, Any]],
    *,
    guards: Collection[int] | None = (0,),
    sleep: Callable[[float], None] = time.sleep,
    tries: int = TRANSACTION_TRIES,
) -> bool:
    """Writes ``items`` in one transaction: True when written, False when a guard's condition failed; retries
    throttling and conflicts with backoff, then raises."""
    for attempt in range(tries):
        try:
            db.transact_write_items(TransactItems=list(items))
            return True
        except ClientError as exc:
            if condition_failed(exc, guards):
                return False
            if not retryable(exc) or attempt + 1 == tries:
                raise
            sleep(min(2.0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")


def write_if(call: Callable[..., Any], **request: Any) -> bool:
    """A conditional single-item write (``put_item``, ``update_item``...): True when written, False when its
    condition failed; anything else is raised (botocore has already retried throttling for these)."""
    try:
        call(**request)
        return True
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
