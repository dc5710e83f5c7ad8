"""What a DynamoDB failure means (``adapters.dynamo.table``): one reading of error codes and cancellation reasons."""

from __future__ import annotations

from botocore.exceptions import ClientError

from groundswell.adapters.dynamo.table import condition_failed, retryable


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "x"},
            "CancellationReasons": [{"Code": c} for c in codes],
        },
        "TransactWriteItems",
    )


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "PutItem")


def test_only_a_failed_condition_on_a_guard_means_already_done() -> None:
    assert condition_failed(error("ConditionalCheckFailedException"))
    assert condition_failed(cancelled("ConditionalCheckFailed", "None", "None"), guards=(0,))
    assert not condition_failed(cancelled("None", "ConditionalCheckFailed"), guards=(0,))  # not the guard
    assert condition_failed(cancelled("None", "ConditionalCheckFailed"), guards=(0, 1))


def test_throttling_and_conflicts_are_retryable_never_a_failed_condition() -> None:
    failures = [
        cancelled("ThrottlingError", "None"),
        cancelled("ConditionalCheckFailed", "TransactionConflict"),
        error("ProvisionedThroughputExceededException"),
        error("TransactionConflictException"),
    ]
    for failure in failures:
        assert retryable(failure) and not condition_failed(failure)
    assert not retryable(error("ValidationException")) and not condition_failed(error("ValidationException"))
