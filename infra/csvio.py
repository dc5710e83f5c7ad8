"""``groundswell detect``: score a CSV of counts (NAB's ``timestamp,value``) and write the decisions.

With a ``total`` column (all mentions, the count column being the negative ones) the negative share is
tested too; with an ``authors`` column as well (distinct negative authors), a swell must be a crowd's."""

from __future__ import annotations

import csv
import operator
from datetime import UTC, datetime
from pathlib import Path

from groundswell.domain.detection.series import score_brand_series, score_series

OPTIONAL_COLUMNS = ("total", "authors")


class CsvInputError(ValueError):
    pass


def read_counts(
    path: Path, value_column: str, optional: tuple[str, ...] = ()
) -> tuple[list[list[str]], list[str], list[datetime], dict[str, list[float]]]:
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
    misshapen = next(((n, r) for n, r in numbered if len(r) != len(header)), None)
    if misshapen:
        number, row = misshapen
        raise CsvInputError(f"{path}:{number}: {len(row)} fields where the header has {len(header)}")
    times = _times(path, numbered, at_time)
    counts = {name: _column(path, numbered, name, at) for name, at in columns.items()}
    for smaller, larger in (("authors", value_column), (value_column, "total")):
        if smaller in counts and larger in counts:
            for (number, _), low, high in zip(numbered, counts[smaller], counts[larger], strict=True):
                if low > high:
                    raise CsvInputError(f"{path}:{number}: {smaller} {low:g} is above {larger} {high:g}")
    return rows, header, times, counts


def _times(path: Path, numbered: list[tuple[int, list[str]]], at: int) -> list[datetime]:
    """UTC times of the rows (without an offset: UTC), strictly increasing. Parsed in one pass over C-level
    maps; only when that fails are the rows walked one by one to name the bad one."""
    stamps = [row[at].strip() for _, row in numbered]
    try:
        parsed = list(map(datetime.fromisoformat, stamps))
    except ValueError:
        for (number, _), stamp in zip(numbered, stamps, strict=True):
            try:
                datetime.fromisoformat(stamp)
            except ValueError:
                raise CsvInputError(f"{path}:{number}: timestamp {stamp!r} is not ISO 8601") from None
        raise
    if not any(t.tzinfo for t in parsed):  # all without an offset: parsed again as UTC, 7x faster than replace()
        try:
            times = list(map(datetime.fromisoformat, [stamp + "+00:00" for stamp in stamps]))
        except ValueError:
            times = []
        if not all(t.tzinfo for t in times) or len(times) != len(parsed):  # a date alone takes no offset
            times = [t.replace(tzinfo=UTC) for t in parsed]
    else:
        times = [t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC) for t in parsed]
    if not all(map(operator.lt, times, times[1:])):
        row = next(i for i in range(1, len(times)) if times[i] <= times[i - 1])
        raise CsvInputError(
            f"{path}:{numbered[row][0]}: timestamps must increase ({stamps[row]} after {times[row - 1]:%Y-%m-%d %H:%M})"
        )
    return times


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
    alerts = scores.alert
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "anomaly_score", "alert"])
        outputs = zip(rows, scores.score.tolist(), alerts.tolist(), strict=True)
        writer.writerows([*row, f"{score:.6f}", int(alert)] for row, score, alert in outputs)
    return int(alerts.sum())
