"""Replay: mentions from a JSON Lines file (local path or S3 object), consumed in order up to "now"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from groundswell.models import Brand, ReplaySource
from groundswell.sources.base import Cursor, FetchResult, Problem
from groundswell.sources.records import parse_line
from groundswell.text import decode_utf8, parse_timestamp

MAX_LINES_PER_POLL = 20_000

LineReader = Callable[[str], Iterator[bytes]]


def read_local_lines(uri: str) -> Iterator[bytes]:
    with Path(uri).open("rb") as handle:
        yield from handle


class ReplayFeed:
    """Reads a replay file from the line after the cursor, stopping at the first mention later than ``now``.

    The file must be in time order (a later line never has an earlier ``created_at`` by more than the
    poll interval); lines are consumed once: the cursor is the count of lines already taken.
    """

    kind = "replay"

    def __init__(self, read_lines: LineReader | None = None, max_lines: int = MAX_LINES_PER_POLL):
        self._read_lines = read_lines
        self._max_lines = max_lines

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        config = brand.source("replay")
        if not isinstance(config, ReplaySource):
            raise ValueError(f"brand {brand.name!r} has no replay source")
        reader = self._read_lines or reader_for(config.uri)
        start = int((cursor or {}).get("line", 0))
        result = FetchResult(may_overlap=False)  # the line cursor is exact
        taken = start
        for number, raw in enumerate(reader(config.uri)):
            if number < start:
                continue
            if taken - start >= self._max_lines:
                result.truncated = True
                break
            line, repaired = decode_utf8(raw)
            where = f"line {number + 1}"
            if repaired:
                result.problems.append(Problem("replay", where, "invalid UTF-8 replaced with U+FFFD", "repaired"))
            if not line.strip():
                taken = number + 1
                continue
            if _later_than(line, now):
                break
            mention = parse_line(line, brand=brand.name, default_source="replay", problems=result.problems, where=where)
            if mention is not None:
                result.mentions.append(mention)
            taken = number + 1
        result.cursor = {"line": taken}
        return result


def _later_than(line: str, now: datetime) -> bool:
    """Cheap look at ``created_at`` so lines from the simulated future stay unread."""
    marker = line.find('"created_at"')
    if marker < 0:
        return False
    start = line.find('"', line.find(":", marker) + 1)
    end = line.find('"', start + 1)
    try:
        return parse_timestamp(line[start + 1 : end]) > now
    except ValueError:
        return False  # let the full parser report it


def reader_for(uri: str) -> LineReader:
    if uri.startswith("s3://"):
        from groundswell.adapters.s3 import read_s3_lines

        return read_s3_lines
    return read_local_lines
