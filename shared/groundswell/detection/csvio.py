"""``groundswell detect``: score a CSV of counts (NAB's ``timestamp,value``) and write the decisions."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from groundswell.detection.series import score_series


class CsvInputError(ValueError):
    pass


def read_counts(path: Path, value_column: str) -> tuple[list[dict[str, str]], list[str], list[datetime], list[float]]:
    """Rows, header, times and counts; raises :class:`CsvInputError` naming the row and the problem."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        for needed in ("timestamp", value_column):
            if needed not in header:
                raise CsvInputError(f"{path}: no '{needed}' column (header: {', '.join(header) or 'empty'})")
        rows = list(reader)
    times: list[datetime] = []
    values: list[float] = []
    for number, row in enumerate(rows, start=2):
        stamp = (row.get("timestamp") or "").strip()
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            raise CsvInputError(f"{path}:{number}: timestamp {stamp!r} is not ISO 8601") from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if times and moment <= times[-1]:
            raise CsvInputError(f"{path}:{number}: timestamps must increase ({stamp} after {times[-1]:%Y-%m-%d %H:%M})")
        raw = (row.get(value_column) or "").strip()
        try:
            value = float(raw)
        except ValueError:
            raise CsvInputError(f"{path}:{number}: {value_column} {raw!r} is not a number") from None
        if not value >= 0:
            raise CsvInputError(f"{path}:{number}: {value_column} {raw!r} is negative; counts cannot be")
        times.append(moment)
        values.append(value)
    return rows, header, times, values


def detect_csv(source: Path, target: Path, value_column: str = "value") -> int:
    """Writes ``source``'s columns plus ``anomaly_score`` and ``alert``; returns the number of alerts."""
    rows, header, times, values = read_counts(source, value_column)
    scores = score_series(times, values)
    alerts = scores.alerts()
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*header, "anomaly_score", "alert"])
        writer.writeheader()
        for row, score, alert in zip(rows, scores.score, alerts, strict=True):
            writer.writerow({**row, "anomaly_score": f"{score:.6f}", "alert": int(alert)})
    return int(alerts.sum())
