"""The Numenta Anomaly Benchmark's scoring, as described in ../shared/data/nab/README.md (Lavin & Ahmad 2015).

Windows are scored by their earliest detection with the scaled sigmoid of its relative position; a missed
window costs fnWeight; each detection outside every window costs fpWeight x sigmoid of its distance after
the preceding window (the full fpWeight with none before it). Rows of the probationary period are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

PROFILES = {
    "standard": {"tp": 1.0, "fn": 1.0, "fp": 0.11},
    "reward_low_FP_rate": {"tp": 1.0, "fn": 1.0, "fp": 0.22},
    "reward_low_FN_rate": {"tp": 1.0, "fn": 2.0, "fp": 0.11},
}


def scaled_sigmoid(y: float) -> float:
    """2 / (1 + e^(5y)) - 1: ~0.987 at y = -1 (a window's start), 0 at its end, towards -1 after it."""
    if y > 50:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(n: int) -> int:
    return min(math.floor(0.15 * n), 750)


@dataclass(frozen=True)
class LabelledFile:
    name: str
    windows: list[tuple[int, int]]  # inclusive row ranges
    rows: int


def score_file(detections: NDArray[np.bool_], labels: LabelledFile, profile: dict[str, float]) -> float:
    """The raw NAB score of one file's detections (a boolean per row)."""
    start = probation_rows(labels.rows)
    rows = np.flatnonzero(detections)
    rows = rows[rows >= start]
    total = 0.0
    in_window = np.zeros(len(rows), dtype=bool)
    for first, last in labels.windows:
        inside = (rows >= first) & (rows <= last)
        in_window |= inside
        if inside.any():
            length = last - first + 1
            earliest = int(rows[inside][0])
            y = -(last - earliest + 1) / length
            total += profile["tp"] * scaled_sigmoid(y)
        else:
            total -= profile["fn"]
    for row in rows[~in_window]:
        before = [(f, la) for f, la in labels.windows if la < row]
        if before:
            first, last = before[-1]
            y = (row - last) / (last - first + 1)
            total += profile["fp"] * scaled_sigmoid(y)
        else:
            total -= profile["fp"]
    return total


def file_counts(detections: NDArray[np.bool_], labels: LabelledFile) -> tuple[int, int]:
    """(windows with a detection, detections outside every window), after the probationary period."""
    rows = np.flatnonzero(detections)
    rows = rows[rows >= probation_rows(labels.rows)]
    inside = [(rows >= first) & (rows <= last) for first, last in labels.windows]
    in_any = np.logical_or.reduce(inside) if inside else np.zeros(len(rows), dtype=bool)
    return sum(bool(hit.any()) for hit in inside), int((~in_any).sum())


def normalised(raw: float, files: Sequence[LabelledFile], profile: dict[str, float]) -> float:
    """100 x (raw - null) / (perfect - null) over the same files."""
    windows = sum(len(f.windows) for f in files)
    null = -profile["fn"] * windows
    perfect = sum(
        profile["tp"] * scaled_sigmoid(-(last - first + 1) / (last - first + 1))
        for f in files
        for first, last in f.windows
    )
    return 100.0 * (raw - null) / (perfect - null)


def best_threshold(
    scores: Sequence[NDArray[np.float64]], files: Sequence[LabelledFile], profile: dict[str, float]
) -> tuple[float, float]:
    """NAB's threshold optimisation: the single threshold maximising the summed raw score. (threshold, raw)"""
    candidates = np.unique(np.round(np.concatenate(scores), 4))
    candidates = candidates[candidates > 0]
    if len(candidates) > 400:
        candidates = np.unique(np.quantile(candidates, np.linspace(0, 1, 400)))
    best = (1.01, sum(score_file(np.zeros(f.rows, dtype=bool), f, profile) for f in files))
    for threshold in candidates:
        raw = sum(score_file(s >= threshold, f, profile) for s, f in zip(scores, files, strict=True))
        if raw > best[1]:
            best = (float(threshold), raw)
    return best
