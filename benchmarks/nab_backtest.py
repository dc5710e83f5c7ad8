"""Scores the detector on the NAB realTweets files in ../shared/data/nab.

    python -m benchmarks.nab_backtest

Prints, per profile, the normalised NAB score with the threshold optimised on these files (as NAB does) and
with the shipped default (the ``alert`` column of ``groundswell detect``), and the scoring speed.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED
from benchmarks.nab_scorer import PROFILES, LabelledFile, best_threshold, file_counts, normalised, score_file
from groundswell.domain.detection.incidents import SENSITIVITY
from groundswell.domain.detection.series import score_series
from infra.csvio import detect_csv

NAB = SHARED / "data" / "nab"


def load(path: Path) -> tuple[list[datetime], list[float]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [datetime.fromisoformat(r["timestamp"]) for r in rows], [float(r["value"]) for r in rows]


def labelled(name: str, times: list[datetime], windows: list[list[str]]) -> LabelledFile:
    stamps = np.array([t.timestamp() for t in times])
    spans = []
    for start, end in windows:
        first = int(np.searchsorted(stamps, datetime.fromisoformat(start).timestamp(), side="left"))
        last = int(np.searchsorted(stamps, datetime.fromisoformat(end).timestamp(), side="right")) - 1
        spans.append((first, last))
    return LabelledFile(name, spans, len(times))


def _copy_csv(source: Path, target: Path) -> None:
    """The baseline: read the CSV and write it back with two constant columns (no parsing, no scoring)."""
    with source.open(newline="") as inp, target.open("w", newline="") as out:
        reader, writer = csv.reader(inp), csv.writer(out)
        writer.writerow([*next(reader), "anomaly_score", "alert"])
        writer.writerows([*row, "0.000000", 0] for row in reader)


def command_speed(names: list[str], runs: int = 3) -> tuple[float, float]:
    """Rows per second of ``groundswell detect`` over the files, reading and writing the CSVs included, and of
    the baseline CSV copy, alternated in the same process (medians of ``runs``)."""
    speeds: dict[str, list[float]] = {"detect": [], "copy": []}
    rows = sum(len((NAB / name).read_text().splitlines()) - 1 for name in names)  # counted once, untimed
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            for label, command in (("detect", detect_csv), ("copy", _copy_csv)):
                began = time.perf_counter()
                for name in names:
                    command(NAB / name, Path(tmp) / "out.csv")
                speeds[label].append(rows / (time.perf_counter() - began))
    return statistics.median(speeds["detect"]), statistics.median(speeds["copy"])


def brand_command_speed(names: list[str]) -> float:
    """Rows per second of ``groundswell detect`` with the brand's decision: the files with a ``total`` column
    (4 x value + 2, made up for timing) and an ``authors`` column (= value): three series per row."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for name in names:
            with (NAB / name).open(newline="") as handle:
                rows = list(csv.reader(handle))[1:]
            path = Path(tmp) / Path(name).name
            with path.open("w", newline="") as handle:
                csv.writer(handle).writerows(
                    [["timestamp", "value", "total", "authors"], *([t, v, str(4 * int(v) + 2), v] for t, v in rows)]
                )
            inputs.append((path, len(rows)))
        began = time.perf_counter()
        for path, _ in inputs:
            detect_csv(path, Path(tmp) / "out.csv")
        return sum(rows for _, rows in inputs) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    windows = json.loads((NAB / "windows.json").read_text())
    names = sorted(k for k in windows if (NAB / k).exists())
    files, scores, alerts = [], [], []
    began, rows = time.perf_counter(), 0
    for name in names:
        times, values = load(NAB / name)
        result = score_series(times, values)
        files.append(labelled(name, times, windows[name]))
        scores.append(result.score)
        alerts.append(result.alert)
        rows += len(values)
    elapsed = time.perf_counter() - began
    windows_total = sum(len(f.windows) for f in files)
    print(f"{len(files)} files, {windows_total} windows, {rows:,} rows scored at {rows / elapsed:,.0f} rows/s")
    detect, copy = command_speed(names)
    print(
        f"the detect command (CSV in, scores, CSV out), median of 3 runs: {detect:,.0f} rows/s; a plain CSV copy "
        f"in the same runs {copy:,.0f} rows/s (detect takes {copy / detect:.1f}x as long)"
    )
    print(
        f"the detect command with total and authors columns (the brand's decision): "
        f"{brand_command_speed(names):,.0f} rows/s"
    )
    print(f"{'profile':<22}{'optimised':>10}{'(threshold)':>13}{'default':>9}")
    for profile_name, profile in PROFILES.items():
        threshold, raw = best_threshold(scores, files, profile)
        shipped = sum(score_file(a.astype(bool), f, profile) for a, f in zip(alerts, files, strict=True))
        print(
            f"{profile_name:<22}{normalised(raw, files, profile):>10.1f}{threshold:>13.3f}"
            f"{normalised(shipped, files, profile):>9.1f}"
        )
    print_per_file(files, scores, alerts)
    print_presets(names, files)


def print_presets(names: list[str], files: list[LabelledFile]) -> None:
    """The ``alert`` column at each preset's p-value (standard profile): does a stricter default help?"""
    cells = []
    for preset, p_open in SENSITIVITY.items():
        raw, outside = 0.0, 0
        for name, labels in zip(names, files, strict=True):
            alert = score_series(*load(NAB / name), alert_p=p_open).alert.astype(bool)
            raw += score_file(alert, labels, PROFILES["standard"])
            outside += file_counts(alert, labels)[1]
        cells.append(f"{preset} {normalised(raw, files, PROFILES['standard']):.1f} ({outside} outside)")
    print("the alert column at each preset, standard profile: " + ", ".join(cells))


def print_per_file(files: list[LabelledFile], scores: list[np.ndarray], alerts: list[np.ndarray]) -> None:
    """Per file, standard profile: windows detected, detections outside every window and the raw score, for
    the shipped ``alert`` column and at the optimised threshold (where the points are lost)."""
    profile = PROFILES["standard"]
    threshold, _ = best_threshold(scores, files, profile)
    print(
        f"per file, standard profile: windows detected / outside every window / raw score "
        f"(shipped alert; anomaly_score >= {threshold:.3f})"
    )
    for labels, score, alert in zip(files, scores, alerts, strict=True):
        cells = []
        for detections in (alert.astype(bool), score >= threshold):
            found, outside = file_counts(detections, labels)
            cells.append(f"{found}/{len(labels.windows)} {outside:>3} {score_file(detections, labels, profile):>6.2f}")
        print(f"  {Path(labels.name).stem:<24}{cells[0]:>18}{cells[1]:>20}")


if __name__ == "__main__":
    main()
