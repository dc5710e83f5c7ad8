"""Text hygiene and timestamps: the raw material of every mention is hostile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from groundswell.domain.text import MAX_TEXT_CHARS, TextRepair, clean_text, decode_utf8, html_to_text, parse_timestamp


def test_html_is_stripped_and_entities_decoded_for_sources_that_send_html() -> None:
    raw = '<p>&quot;Lost&quot; my bag</p><p><a href="https://x.example">link</a><script>alert(1)</script></p>'
    assert clean_text(raw, html=True) == '"Lost" my bag\nlink'
    assert clean_text("one<br>two<br/>three</p>four", html=True) == "one\ntwo\nthree\nfour"
    mastodon = '<p>Hi <span class="h-card"><a href="https://m.example/@acme">@<span>acme</span></a></span> &lt;3</p>'
    assert clean_text(mastodon, html=True) == "Hi @acme <3"
    assert clean_text("x < y and <b>bold</b> &amp; done", html=True) == "x < y and bold & done"


@pytest.mark.parametrize(
    "text",
    [
        "Love you <3 @AcmeAir but 2h on hold -> not ok",
        "price < 5 and > 3 is fine",
        "if (a<b && b>c) { return x<<2; }",
        "2 < 3 > 1, x <= y >= z, a<->b, <= 10 min",
        "<-- that was fun --> really >_< :-> <_<",
        "Use <div> or <span class='x'> in your HTML",
        "e = mc^2; ∑ x_i < ∞; 3 > 2 ≥ 1",
        "→ gate B12 ← moved ⇒ delay ≈ 2h",
        "Vec<Option<String>> and List<int> are generics",
    ],
)
def test_plain_text_is_never_eaten(text: str) -> None:
    """Bluesky, pushes and replays send plain text: nothing between < and > is markup there."""
    assert clean_text(text) == text


def test_character_references_in_plain_text_are_decoded_as_tweet_exports_need() -> None:
    assert clean_text("AT&T &amp; Acme &lt;3 &#39;quoted&#39; & more") == "AT&T & Acme <3 'quoted' & more"


def test_invisible_and_direction_changing_characters_are_removed() -> None:
    assert clean_text("pay\u202eday\u200b \x00now") == "payday now"
    for invisible in ("\u2060", "\u061c", "\u00ad", "\ufeff", "\u200b", "\u2066", "\U000e0041", "\x9b"):
        assert clean_text(f"acme{invisible}air") == "acmeair", repr(invisible)
    assert clean_text("line\u2028two") == "line\ntwo"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(f"acme\u200dair {family}") == f"acmeair {family}"  # a joiner stays inside emoji only


def test_the_keyword_matches_through_an_invisible_character() -> None:
    from groundswell.domain.sources import TermMatcher
    from tests.conftest import make_brand

    matcher = TermMatcher(make_brand(terms={"keywords": ["acme air"]}).terms)
    assert matcher.matches(clean_text("acme\u2060 air\u00ad lost my bag"))


def test_every_unicode_format_character_is_removed() -> None:
    import sys
    import unicodedata

    format_chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    kept = [hex(ord(c)) for c in format_chars if clean_text(f"a{c}b") != "ab"]
    assert kept == []


def test_a_50kb_html_laden_text_is_bounded_and_reported() -> None:
    repair = TextRepair()
    text = clean_text("<div><b>refund</b> please</div>" * 1800, html=True, repair=repair)
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


@pytest.mark.parametrize("markup", ["<![0", "post <![ 1 more", "<![if x"])
def test_a_broken_marked_section_is_text_not_a_crash(markup: str) -> None:
    """Found by hypothesis: the standard library's parser raises an AssertionError on ``<![0`` (one hostile
    Mastodon post would have stopped its source)."""
    text, _ = html_to_text(markup)
    assert text == markup
