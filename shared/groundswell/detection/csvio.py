"""``groundswell detect``: score a CSV of counts (NAB's ``timestamp,value``) and write the decisions."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from groundswell.detection.series import score_series


class CsvInputError(ValueError):
    pass


def read_counts(path: Path, value_column: str) -> tuple[list[list[str]], list[str], list[datetime], list[float]]:
    """Rows, header, times and counts; raises :class:`CsvInputError` naming the row and the problem."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        for needed in ("timestamp", value_column):
            if needed not in header:
                raise CsvInputError(f"{path}: no '{needed}' column (header: {', '.join(header) or 'empty'})")
        numbered = [(reader.line_num, row) for row in reader if row]  # blank lines are skipped
    rows = [row for _, row in numbered]
    at_time, at_value = header.index("timestamp"), header.index(value_column)
    times: list[datetime] = []
    values: list[float] = []
    for number, row in numbered:
        if len(row) != len(header):
            raise CsvInputError(f"{path}:{number}: {len(row)} fields where the header has {len(header)}")
        stamp = row[at_time].strip()
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            raise CsvInputError(f"{path}:{number}: timestamp {stamp!r} is not ISO 8601") from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if times and moment <= times[-1]:
            raise CsvInputError(f"{path}:{number}: timestamps must increase ({stamp} after {times[-1]:%Y-%m-%d %H:%M})")
        raw = row[at_value].strip()
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
        writer = csv.writer(handle)
        writer.writerow([*header, "anomaly_score", "alert"])
        outputs = zip(rows, scores.score.tolist(), alerts.tolist(), strict=True)
        writer.writerows([*row, f"{score:.6f}", int(alert)] for row, score, alert in outputs)
    return int(alerts.sum())
