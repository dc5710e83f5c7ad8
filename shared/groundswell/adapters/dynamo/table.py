"""The table every repository works through (:class:`Table`), and what a DynamoDB failure means: the one
place that reads error codes and a cancelled transaction's reasons, so that a throttled or conflicting write is
never taken for "already stored", "released by someone else" or "cap reached".

- **Condition failed**: a plain ``ConditionalCheckFailedException``, or a cancelled transaction whose reason on
  a *guarding* item is ``ConditionalCheckFailed`` (and no reason says throttling or a conflict): the thing is
  already done, or not allowed. The caller decides what that means.
- **Retryable**: throttling, a transaction conflict, an internal error: try again with backoff (botocore does
  not retry a cancelled transaction, whatever its reasons), and in the end raise, so that Lambda retries.
- Anything else (validation, access) is raised as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACTION_TRIES = 6
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
RETRYABLE_REASONS = frozenset(
    {
        "ThrottlingError",
        "TransactionConflict",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
        "InternalServerError",
    }
)


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


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def units(reply: Any) -> float:
    """The capacity units a reply says it consumed (``ReturnConsumedCapacity="TOTAL"``)."""
    return float(sum(c.get("CapacityUnits", 0) for c in reply.get("ConsumedCapacity", [])))


class Table:
    """One DynamoDB table as the repositories use it: keys, queries, batches with unprocessed-item retries,
    conditional writes and transactions. ``client`` is a boto3 DynamoDB client (real, or moto in tests);
    ``clock`` gives the time written into items (a simulation's clock, or the wall clock)."""

    def __init__(
        self,
        client: DynamoDBClient,
        name: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.db, self.name, self.sleep, self.clock = client, name, sleep, clock

    def now(self) -> datetime:
        return self.clock()

    def stamp(self) -> str:
        """Now, as written into items (seconds, UTC)."""
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def expiry(self, seconds: float) -> dict[str, str]:
        """A TTL attribute ``seconds`` from now."""
        return {"N": str(int(self.clock().timestamp() + seconds))}

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        """One item, read consistently; None when absent."""
        item: dict[str, Any] | None = self.db.get_item(TableName=self.name, Key=key(pk, sk), ConsistentRead=True).get(
            "Item"
        )
        return item

    def put(self, item: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.name, Item=item)

    def delete(self, pk: str, sk: str) -> None:
        self.db.delete_item(TableName=self.name, Key=key(pk, sk))

    def put_if(self, item: dict[str, Any], condition: str, **expression: Any) -> bool:
        """A conditional put: True when written, False when its condition failed (see :func:`write_if`)."""
        return write_if(self.db.put_item, TableName=self.name, Item=item, ConditionExpression=condition, **expression)

    def update_if(self, pk: str, sk: str, update: str, condition: str, **expression: Any) -> bool:
        """A conditional update: True when written, False when its condition failed."""
        return write_if(
            self.db.update_item,
            TableName=self.name,
            Key=key(pk, sk),
            UpdateExpression=update,
            ConditionExpression=condition,
            **expression,
        )

    def transact(self, items: Sequence[dict[str, Any]], *, guards: Collection[int] | None = (0,)) -> bool:
        """Writes ``items`` in one transaction (see :func:`transact`); each action's ``TableName`` is filled in."""
        actions = [{kind: {"TableName": self.name, **spec} for kind, spec in item.items()} for item in items]
        return transact(self.db, actions, guards=guards, sleep=self.sleep)

    def query(self, pk: str, prefix: str | None = None, between: tuple[str, str] | None = None) -> Iterator[Any]:
        """Every item of partition ``pk`` (sort keys starting with ``prefix``, or within ``between``), page by page."""
        values: dict[str, Any] = {":pk": {"S": pk}}
        condition = "pk = :pk"
        if prefix is not None:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": prefix}
        elif between is not None:
            condition += " AND sk BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = {"S": between[0]}, {"S": between[1]}
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            reply = self.db.query(**request)
            yield from reply.get("Items", [])
            if "LastEvaluatedKey" not in reply:
                return
            request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]

    def batch_get(
        self,
        keys: Sequence[dict[str, Any]],
        *,
        consistent: bool = False,
        projection: str | None = None,
        on_units: Callable[[float], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Items for ``keys`` (absent ones left out): BatchGetItem of 100, unprocessed keys retried with backoff,
        then raised (so that Lambda retries)."""
        items: list[dict[str, Any]] = []
        for chunk in chunked(list(keys), BATCH_GET_LIMIT):
            spec: dict[str, Any] = {"Keys": list(chunk), "ConsistentRead": consistent}
            if projection:
                spec["ProjectionExpression"] = projection
            request: dict[str, Any] = {self.name: spec}
            for attempt in range(TRANSACTION_TRIES):
                reply = self.db.batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
                if on_units is not None:
                    on_units(units(reply))
                items.extend(reply.get("Responses", {}).get(self.name, []))
                request = reply.get("UnprocessedKeys") or {}
                if not request:
                    break
                self.sleep(min(2.0, 0.05 * 2**attempt))
            if request:
                raise RuntimeError(f"BatchGetItem left keys unprocessed after {TRANSACTION_TRIES} tries (throttled)")
        return items

    def batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem in chunks of 25, unprocessed requests re-sent with backoff, then raised."""
        for chunk in chunked(list(requests), BATCH_WRITE_LIMIT):
            pending: list[Any] = list(chunk)
            for attempt in range(TRANSACTION_TRIES):
                reply = self.db.batch_write_item(RequestItems={self.name: pending})
                pending = reply.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
                self.sleep(min(2.0, 0.05 * 2**attempt))
            if pending:
                raise RuntimeError(f"{len(pending)} items were not written after retries (throttled)")

    def batch_put(self, items: Sequence[dict[str, Any]]) -> None:
        self.batch_write([{"PutRequest": {"Item": item}} for item in items])

    def batch_delete(self, keys: Sequence[tuple[str, str]]) -> None:
        self.batch_write([{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in keys])
