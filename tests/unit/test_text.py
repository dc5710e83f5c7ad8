"""Text hygiene and timestamps: the raw material of every mention is hostile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from groundswell.text import MAX_TEXT_CHARS, TextRepair, clean_text, decode_utf8, parse_timestamp


def test_html_is_stripped_and_entities_decoded() -> None:
    raw = '<p>&quot;Lost&quot; my bag</p><p><a href="https://x.example">link</a><script>alert(1)</script></p>'
    assert clean_text(raw) == '"Lost" my bag\nlink'


def test_invisible_and_direction_changing_characters_are_removed() -> None:
    assert clean_text("pay\u202eday\u200b \x00now") == "payday now"


def test_a_50kb_html_laden_text_is_bounded_and_reported() -> None:
    repair = TextRepair()
    text = clean_text("<div><b>refund</b> please</div>" * 1800, repair=repair)
    assert len(text) <= MAX_TEXT_CHARS
    assert text.endswith("…")
    assert repair.truncated and repair.html_stripped


@pytest.mark.parametrize(
    "value",
    [
        "2015-02-22T14:05:00Z",
        "2015-02-22T06:05:00-08:00",
        "Sun, 22 Feb 2015 14:05:00 GMT",
        1424613900,
        "2015-02-22 14:05:00+00:00",
    ],
)
def test_timestamps_in_every_source_format_become_utc(value: object) -> None:
    assert parse_timestamp(value) == datetime(2015, 2, 22, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2015-02-22T14:05:00", "", None, True, -5, "2015-13-40T00:00:00Z"])
def test_bad_timestamps_are_refused_with_a_reason(value: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_invalid_utf8_is_repaired_not_fatal() -> None:
    assert decode_utf8("café".encode()) == ("café", False)
    text, repaired = decode_utf8(b"caf\xe9 ok")
    assert repaired and text == "caf\ufffd ok"
