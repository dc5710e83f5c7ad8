"""``groundswell detect``: score a CSV of counts (NAB's ``timestamp,value``) and write the decisions.

With a ``total`` column (all mentions, the count column being the negative ones) the negative share is
tested too; with an ``authors`` column as well (distinct negative authors), a swell must be a crowd's."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from groundswell.detection.series import score_brand_series, score_series

OPTIONAL_COLUMNS = ("total", "authors")


class CsvInputError(ValueError):
    pass


def read_counts(path: Path, value_column: str, optional: tuple[str, ...] = ()
                ) -> tuple[list[list[str]], list[str], list[datetime], dict[str, list[float]]]:  # fmt: skip
    """Rows, header, times and the counts of ``value_column`` and of each ``optional`` column present; raises
    :class:`CsvInputError` naming the row and the problem."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        for needed in ("timestamp", value_column):
            if needed not in header:
                raise CsvInputError(f"{path}: no '{needed}' column (header: {', '.join(header) or 'empty'})")
        numbered = [(reader.line_num, row) for row in reader if row]  # blank lines are skipped
    rows = [row for _, row in numbered]
    at_time = header.index("timestamp")
    wanted = [value_column, *(c for c in optional if c in header and c != value_column)]
    columns = {name: header.index(name) for name in wanted}
    times: list[datetime] = []
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
        times.append(moment)
    counts = {name: _column(path, numbered, name, at) for name, at in columns.items()}
    for smaller, larger in (("authors", value_column), (value_column, "total")):
        if smaller in counts and larger in counts:
            for (number, _), low, high in zip(numbered, counts[smaller], counts[larger], strict=True):
                if low > high:
                    raise CsvInputError(f"{path}:{number}: {smaller} {low:g} is above {larger} {high:g}")
    return rows, header, times, counts


def _column(path: Path, numbered: list[tuple[int, list[str]]], name: str, at: int) -> list[float]:
    values = []
    for number, row in numbered:
        raw = row[at].strip()
        try:
            value = float(raw)
        except ValueError:
            raise CsvInputError(f"{path}:{number}: {name} {raw!r} is not a number") from None
        if not value >= 0:
            raise CsvInputError(f"{path}:{number}: {name} {raw!r} is negative; counts cannot be")
        values.append(value)
    return values


def detect_csv(source: Path, target: Path, value_column: str = "value") -> int:
    """Writes ``source``'s columns plus ``anomaly_score`` and ``alert``; returns the number of alerts."""
    rows, header, times, counts = read_counts(source, value_column, OPTIONAL_COLUMNS)
    if "total" in counts:
        scores = score_brand_series(times, counts[value_column], counts["total"], counts.get("authors"))
    else:
        scores = score_series(times, counts[value_column])
    alerts = scores.alerts()
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "anomaly_score", "alert"])
        outputs = zip(rows, scores.score.tolist(), alerts.tolist(), strict=True)
        writer.writerows([*row, f"{score:.6f}", int(alert)] for row, score, alert in outputs)
    return int(alerts.sum())
