"""Sample posts that show what a crisis is about.

From the spike's negative mentions, greedily pick up to ``count`` posts maximising relevance (how many of the
incident's driver terms a post contains, plus log engagement) while keeping every author different and no two
posts near-duplicates (Jaccard similarity of word 3-shingles above ``DUPLICATE_JACCARD``: retweets, copy-paste
campaigns and templated complaints show once). Broder (1997), "On the resemblance and containment of documents".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from groundswell.domain.models import Mention, Sentiment

DUPLICATE_JACCARD = 0.5
_WORD = re.compile(r"[a-z0-9']+")
_NOISE = re.compile(r"https?://\S+|@\w+|^rt\b", re.IGNORECASE)


def shingles(text: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(_NOISE.sub(" ", text.lower()))
    if len(words) < size:
        return frozenset({tuple(words)})
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def choose_samples(
    mentions: Sequence[Mention], drivers: Sequence[str], count: int = 5, *, negative_first: bool = True
) -> list[Mention]:
    """Up to ``count`` representative, engaged, diverse negative posts, most relevant first; with
    ``negative_first`` False (an attention notice), from all posts: mockery is rarely scored negative."""
    terms = [d.lower() for d in drivers if d]
    every = [m for m in mentions if m.text.strip()]
    candidates = [m for m in every if m.sentiment is Sentiment.NEGATIVE] if negative_first else []
    candidates = candidates or every

    def relevance(mention: Mention) -> tuple[float, float]:
        text = mention.text.lower()
        hits = sum(1 for term in terms if term in text)
        return (hits + math.log1p(mention.engagement), mention.created_at.timestamp())

    chosen: list[Mention] = []
    seen_authors: set[str] = set()
    seen_shingles: list[frozenset[tuple[str, ...]]] = []
    for mention in sorted(candidates, key=relevance, reverse=True):
        author = mention.author.lower()
        grams = shingles(mention.text)
        if author in seen_authors or any(jaccard(grams, other) > DUPLICATE_JACCARD for other in seen_shingles):
            continue
        chosen.append(mention)
        seen_authors.add(author)
        seen_shingles.append(grams)
        if len(chosen) == count:
            break
    return chosen
