"""Replay: mentions from a JSON Lines file (local path or S3 object), consumed in order up to "now".

The cursor is exact and checked: it holds the number of lines taken, the byte offset after them and a
digest of the file's first bytes (up to ``HEAD_BYTES`` of what was taken). A file that is shorter than the
cursor, or whose taken part changed (replaced, rotated, edited), is read again from its first line, reported
(``ReplayFileReset`` and a warning); mentions read before are recognised by the store, so nothing is lost or
counted twice. A last line without its newline may still be being written: it is read (if it is a whole
JSON object) but the cursor stays before it, so it is read again once complete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from groundswell.domain.models import Brand, ReplaySource
from groundswell.domain.records import parse_line
from groundswell.domain.sources import Cursor, FetchResult, Problem
from groundswell.domain.text import decode_utf8, parse_timestamp
from groundswell.observability import count, logger

MAX_LINES_PER_POLL = 20_000
HEAD_BYTES = 64 * 1024

LineReader = Callable[[str], Iterator[bytes]]


def read_local_lines(uri: str) -> Iterator[bytes]:
    with Path(uri).open("rb") as handle:
        yield from handle


@dataclass(frozen=True)
class Position:
    """Where the next poll starts: ``line`` lines taken, ``offset`` bytes, ``head`` the digest of the first
    ``min(offset, HEAD_BYTES)`` bytes (None in cursors written before it existed: not checked)."""

    line: int = 0
    offset: int = 0
    head: str | None = None

    @classmethod
    def of(cls, cursor: Cursor | None) -> Position:
        cursor = cursor or {}
        head = cursor.get("head")
        return cls(int(cursor.get("line", 0)), int(cursor.get("offset", 0)), head if isinstance(head, str) else None)

    def as_cursor(self, *, pending: bool = False) -> Cursor:
        cursor: Cursor = {"line": self.line, "offset": self.offset, "head": self.head}
        if pending:
            cursor["pending"] = True
        return cursor


class _Head:
    """The running digest of a file's first ``HEAD_BYTES`` bytes."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._size = 0

    def add(self, data: bytes) -> None:
        if self._size < HEAD_BYTES:
            part = data[: HEAD_BYTES - self._size]
            self._digest.update(part)
            self._size += len(part)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class ReplayFeed:
    """Reads a replay file from the line after the cursor, stopping at the first mention later than ``now``.

    The file must be in time order (a later line never has an earlier ``created_at`` by more than the
    poll interval)."""

    kind = "replay"

    def __init__(self, read_lines: LineReader | None = None, max_lines: int = MAX_LINES_PER_POLL):
        self._read_lines = read_lines
        self._max_lines = max_lines

    def fetch(self, brand: Brand, cursor: Cursor | None, now: datetime) -> FetchResult:
        config = brand.source("replay")
        if not isinstance(config, ReplaySource):
            raise ValueError(f"brand {brand.name!r} has no replay source")
        reader = self._read_lines or reader_for(config.uri)
        start = Position.of(cursor)
        result = FetchResult(may_overlap=bool((cursor or {}).get("pending")))
        changed = self._read(reader(config.uri), brand, start, now, result)
        if changed:
            count("ReplayFileReset", 1, source="replay")
            logger.warning(
                "replay file changed: read again from line 1", extra={"brand": brand.name, "reason": changed}
            )
            result.mentions.clear()
            result.may_overlap = True  # what was read before is recognised, not counted again
            self._read(reader(config.uri), brand, Position(), now, result)
        return result

    def _read(self, lines: Iterator[bytes], brand: Brand, start: Position, now: datetime, result: FetchResult) -> str:
        """Reads from ``start`` into ``result``; returns why the file no longer matches the cursor (nothing
        read then), or "" when it does."""
        head = _Head()
        offset = 0
        taken = start.line
        pending = False
        number = -1
        for number, raw in enumerate(lines):
            if number < start.line:
                head.add(raw)
                offset += len(raw)
                continue
            if number == start.line and (mismatch := _mismatch(start, offset, head)):
                return mismatch
            if taken - start.line >= self._max_lines:
                result.truncated = True
                break
            complete = raw.endswith(b"\n")
            line, repaired = decode_utf8(raw)
            where = f"line {number + 1}"
            if not complete and not _whole_object(line):
                break  # still being written: the next poll reads it whole
            if repaired:
                result.problems.append(Problem("replay", where, "invalid UTF-8 replaced with U+FFFD", "repaired"))
            if line.strip() and _later_than(line, now):
                break
            if line.strip():
                mention = parse_line(
                    line, brand=brand.name, default_source="replay", problems=result.problems, where=where
                )
                if mention is not None:
                    result.mentions.append(mention)
            if not complete:
                pending = True  # read, but the cursor stays before it until its newline is written
                break
            head.add(raw)
            offset += len(raw)
            taken = number + 1
        if number < start.line and start.line > 0 and (mismatch := _mismatch(start, offset, head)):
            return mismatch  # the file ends before the cursor (truncated), or its start changed
        result.cursor = Position(taken, offset, head.hexdigest()).as_cursor(pending=pending)
        return ""


def _mismatch(start: Position, offset: int, head: _Head) -> str:
    if start.head is None:
        return ""  # a cursor from before the check: trusted once, checked from the next poll on
    if offset != start.offset:
        shorter = "shorter than" if offset < start.offset else "different from"
        return f"replay file {shorter} what was read before (replaced or truncated)"
    if head.hexdigest() != start.head:
        return "replay file's first lines changed since the last poll (replaced)"
    return ""


def _whole_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


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
