"""Makes three of moto's operations cost what they cost in AWS, with the same results.

- moto 5.2.5's ``transact_write_items`` deep-copies the *whole table* once per action to be able to roll
  back: a 100-action transaction on a table of 5,000 items copies 500,000 items, and memory grows by gigabytes
  in a day-long local run. The patch backs up only the items the transaction touches and restores those when
  it is cancelled: the same all-or-nothing behaviour.
- its ``query`` on a table (not an index) filters *every item of the table* by partition key. The patch hands
  it only the queried partition (moto stores items per partition already).
- its SQS ``receive_message`` and ``send_message`` compute *all* queue attributes (counting every message in
  the queue) for each message, to read one setting: n messages cost O(n^2). The patch reads the retention
  period and the content-based deduplication flag from the queue directly.

They change the emulator, never the functions.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_PATCHED = False


class _NoCopy:
    """Stands in for the ``copy`` module inside moto's transaction code: the table backup is skipped."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value


def patch_moto_transactions() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups = []
        for action in transact_items:
            _, op = next(iter(action.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            current = self.get_item(op["TableName"], key)
            backups.append((op["TableName"], key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        saved, models.copy = models.copy, _NoCopy  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, item in backups:
                if item is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, item)
            raise
        finally:
            models.copy = saved

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _patch_partition_queries()
    _patch_sqs_attribute_reads()
    _PATCHED = True


def _patch_partition_queries() -> None:
    import inspect

    from moto.dynamodb.models import table as tables

    original = tables.Table.query
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if bound.arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return original(self, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        self.all_items = lambda: list(partition.values())  # an instance attribute shadows the method
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    tables.Table.query = query  # type: ignore[method-assign]


def _patch_sqs_attribute_reads() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]

    original_send = SQSBackend.send_message
    attributes: Any = Queue.attributes
    sending = threading.local()

    @functools.wraps(original_send)
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        sending.active = True  # send_message reads only queue.attributes["ContentBasedDeduplication"]
        try:
            return original_send(self, *args, **kwargs)
        finally:
            sending.active = False

    def queue_attributes(self: Any) -> dict[str, Any]:
        if getattr(sending, "active", False):
            flag = getattr(self, "content_based_deduplication", False) if self.fifo_queue else None
            return {} if flag is None else {"ContentBasedDeduplication": str(flag).lower()}
        return attributes.fget(self)

    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    Queue.attributes = property(queue_attributes)  # type: ignore[assignment,method-assign]
