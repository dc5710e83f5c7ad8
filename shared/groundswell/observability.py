"""The one home of logging, metrics and tracing (Powertools). Logs never carry full phone numbers or emails."""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

NAMESPACE = "Groundswell"
# handlers publish per-source metrics with their own dimensions (single_metric), so the handler-level
# batch may be empty; Powertools warns about that on every invocation
warnings.filterwarnings("ignore", message="No application metrics to publish")

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w+])\+\d[\d ().-]{5,18}(\d{2})\b")  # E.164 and its formatted forms
_SECRET_KEYS = re.compile(
    r'("(?:[^"]*(?:password|secret|token|authorization|accessJwt|refreshJwt|api_key)[^"]*)"\s*:\s*)"[^"]*"',
    re.IGNORECASE,
)


def mask_email(address: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``."""
    return _EMAIL.sub(r"\1***@\2", address)


def mask_phone(number: str) -> str:
    """``+14155550123`` -> ``+*********23``: keeps the last two digits only."""
    return _PHONE.sub(lambda m: "+" + "*" * max(len(m.group(0)) - 3, 3) + m.group(1), number)


def redact(text: str) -> str:
    """Masks emails, phone numbers and the values of secret-looking JSON keys in a serialised log line."""
    text = _SECRET_KEYS.sub(r'\1"***"', text)
    return mask_phone(mask_email(text))


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every line passed through :func:`redact` before it is written."""

    def serialize(self, log: dict) -> str:  # type: ignore[override]
        return redact(super().serialize(log))


logger = Logger(service="groundswell", logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE, service="groundswell")


@cache
def tracer() -> Tracer:
    """The X-Ray tracer, created on first use (the X-Ray SDK costs ~300 ms of cold start)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service="groundswell")


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Emits one metric now, with its own dimensions (e.g. ``source``), apart from the handler's batch."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=dim)


def unreadable(kind: str, message: str, error: Exception, items: int = 1, **context: Any) -> None:
    """A stored item that cannot be read (written by another version, or edited by hand): logged with what was
    done instead (``message``) and the first problem, and counted in ``UnreadableItems`` (its alarm), so that
    one bad item is seen without stopping the rest."""
    errors = getattr(error, "errors", None)  # pydantic's ValidationError names each problem
    problem = errors()[0]["msg"] if callable(errors) else (str(error).splitlines() or [""])[0][:200]
    logger.error(message, extra={**context, "problem": problem})
    count("UnreadableItems", items, kind=kind)


def milliseconds(name: str, value: float, **dimensions: str) -> None:
    with single_metric(name=name, unit=MetricUnit.Milliseconds, value=value, namespace=NAMESPACE) as metric:
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=dim)


def traced(handler: Any) -> Any:
    """Adds X-Ray subsegments through Powertools' Tracer when ``GROUNDSWELL_XRAY_SDK=true``.

    Lambda's active tracing (template: ``Tracing: Active``) traces every invocation without the SDK; the SDK
    adds per-call subsegments (boto3, HTTP) for ~300 ms of cold start, so it is opt-in.
    """
    import os

    if os.environ.get("GROUNDSWELL_XRAY_SDK", "").lower() != "true":
        return handler
    return tracer().capture_lambda_handler(handler)
