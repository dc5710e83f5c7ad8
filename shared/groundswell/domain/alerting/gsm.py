"""SMS text under the GSM 03.38 7-bit alphabet: transliteration and segment counting.

One SMS part carries 160 GSM-7 characters (153 each when concatenated); a single character outside the
alphabet turns the whole message into UCS-2 (70 / 67 per part). Characters of the extension table (``{}[]~|^\\€``)
count twice. Reference: 3GPP TS 23.038, section 6.2.1.
"""

from __future__ import annotations

import unicodedata

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = frozenset("^{}\\[~]|€\f")
SINGLE, MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# common characters copied from posts and their plain GSM-7 spellings
_TRANSLITERATE = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "«": '"',
    "»": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2026": "...",
    "\u2022": "*",
    "·": "*",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u00d7": "x",
    "÷": "/",
    "\u2192": "->",
    "\u2190": "<-",
    "≥": ">=",
    "≤": "<=",
    "™": "TM",
    "©": "(c)",
    "®": "(R)",
}
_INVISIBLE = {"Cf", "Cc", "Co", "Cs", "Cn", "Mn", "Me"}  # format/control (bidi overrides, zero-width), marks


def gsm_units(text: str) -> int | None:
    """Septets ``text`` takes in GSM-7, or None if some character is outside the alphabet."""
    units = 0
    for char in text:
        if char in BASIC:
            units += 1
        elif char in EXTENSION:
            units += 2
        else:
            return None
    return units


def segments(text: str) -> int:
    """SMS parts needed for ``text`` (GSM-7 when possible, else UCS-2 counted in UTF-16 code units)."""
    units = gsm_units(text)
    if units is not None:
        return 1 if units <= SINGLE else -(-units // MULTI)
    utf16 = len(text.encode("utf-16-le")) // 2
    return 1 if utf16 <= UCS2_SINGLE else -(-utf16 // UCS2_MULTI)


def to_gsm(text: str) -> str:
    """``text`` in GSM-7 only: typographic punctuation and accented letters transliterated, the rest (emoji,
    other scripts, zero-width and bidi-control characters, line breaks) dropped. Whitespace runs collapse."""
    out: list[str] = []
    for char in text:
        if char in "\r\n\f":
            char = " "
        if char in BASIC or char in EXTENSION:
            out.append(char)
            continue
        if char in _TRANSLITERATE:
            out.append(_TRANSLITERATE[char])
            continue
        if unicodedata.category(char) in _INVISIBLE:
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        kept = "".join(c for c in decomposed if c in BASIC or c in EXTENSION)
        if kept and unicodedata.category(decomposed[0])[0] in "LNPSZ":
            out.append(kept)
    return " ".join("".join(out).split())


def fit(text: str, limit: int = SINGLE) -> str:
    """``text`` (already GSM-7) cut at a word boundary so it takes at most ``limit`` septets, ending '...'."""
    if (gsm_units(text) or 0) <= limit:
        return text
    cut = text
    while cut and (gsm_units(cut) or 0) > limit - 3:
        cut = cut[:-1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "..."
