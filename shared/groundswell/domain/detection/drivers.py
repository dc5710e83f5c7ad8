"""What a spike is about: terms and sources over-represented in its negative mentions against the baseline.

Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words",
Political Analysis 16(4), eq. 16-22): for term w with counts y_s (spike) and y_b (baseline), prior counts
a_w = alpha * (y_s + y_b) / N over both corpora,

    delta_w = log((y_s + a_w) / (n_s + a0 - y_s - a_w)) - log((y_b + a_w) / (n_b + a0 - y_b - a_w)),
    z_w = delta_w / sqrt(1 / (y_s + a_w) + 1 / (y_b + a_w)).

Terms with z above ``MIN_Z`` and seen in at least ``MIN_COUNT`` spike mentions (by different authors) are
the drivers, strongest first. A swell of the usual complaints has few such terms (its topics are the
baseline's too), so when fewer than ``FEW`` stand out, the list is filled with the spike's most frequent terms
that are not under-represented (z >= 0): "more of the same: cancelled, hold" says more than nothing. Words of
everyday English that name no topic ("today", "people", "good") are never drivers. Pure Python: no numpy.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from groundswell.domain.models import Mention

MIN_Z = 2.5
MIN_COUNT = 3
FEW = 3  # fewer significant terms than this: fill up with the spike's most frequent ones
ALPHA = 10.0  # prior strength
STOPWORDS = frozenset(
    "the a an and or but if of to in on at for from by with about into over after before is are was were be "
    "been being am i me my we our you your he she it its they them their this that these those there here "
    "what which who whom when where why how all any both each few more most other some such no nor not only "
    "own same so than too very can will just don should now have has had do does did get got still again "
    "would could also im ive dont cant wont isnt didnt doesnt thats theres youre were rt amp via "
    # everyday words that name no topic
    "today tomorrow yesterday tonight good great people back time times since going know like really thanks "
    "thank please need needs want one two even well way day days make made say said see much many every let "
    "yes yet another ever never always already though actually right new last first next lol okay guys sure "
    "take took come came went getting give gave tell told think look looking keep trying try".split()
)
_WORD = re.compile(r"[a-z][a-z'#@]{2,}")


@dataclass(frozen=True)
class Driver:
    term: str
    spike: int  # spike mentions containing it
    baseline: int
    z: float


def _terms(text: str, ignore: frozenset[str]) -> set[str]:
    words = (w.strip("'") for w in _WORD.findall(text.lower().replace("https://", " ").replace("http://", " ")))
    return {w for w in words if w.replace("'", "") not in STOPWORDS and w.lstrip("#@") not in ignore and len(w) > 2}


def find_drivers(
    spike: Sequence[Mention], baseline: Sequence[Mention], *, brand_terms: Iterable[str] = (), limit: int = 5
) -> list[Driver]:
    """The terms over-represented in ``spike`` against ``baseline`` (each mention counts a term once)."""
    ignore = frozenset(part for t in brand_terms for part in t.lower().lstrip("#@").split())
    spike_counts: Counter[str] = Counter()
    spike_authors: dict[str, set[str]] = {}
    for mention in spike:
        for term in _terms(mention.text, ignore):
            spike_counts[term] += 1
            spike_authors.setdefault(term, set()).add(mention.author.lower())
    base_counts: Counter[str] = Counter()
    for mention in baseline:
        base_counts.update(_terms(mention.text, ignore))
    n_s, n_b = sum(spike_counts.values()), sum(base_counts.values())
    total = n_s + n_b
    if not n_s:
        return []
    scored = []
    for term, y_s in spike_counts.items():
        if y_s < MIN_COUNT or len(spike_authors[term]) < MIN_COUNT:
            continue
        y_b = base_counts.get(term, 0)
        prior = ALPHA * (y_s + y_b) / total
        delta = math.log((y_s + prior) / (n_s + ALPHA - y_s - prior)) - math.log(
            (y_b + prior) / (n_b + ALPHA - y_b - prior)
        )
        z = delta / math.sqrt(1 / (y_s + prior) + 1 / (y_b + prior))
        scored.append(Driver(term, y_s, y_b, round(z, 2)))
    standing_out = sorted((d for d in scored if d.z >= MIN_Z), key=lambda d: -d.z)[:limit]
    frequent = sorted((d for d in scored if 0 <= d.z < MIN_Z), key=lambda d: (-d.spike, -d.z))
    return standing_out + frequent[: max(0, min(FEW, limit) - len(standing_out))]


def describe(
    spike: Sequence[Mention], baseline: Sequence[Mention], brand_terms: Iterable[str]
) -> tuple[tuple[str, ...], tuple[tuple[str, float, float], ...]]:
    """(driver terms, (source, spike share, baseline share)) for an incident."""
    terms = tuple(d.term for d in find_drivers(spike, baseline, brand_terms=brand_terms))
    return terms, tuple((s, a, b) for s, (a, b) in source_shares(spike, baseline).items())


def source_shares(spike: Sequence[Mention], baseline: Sequence[Mention]) -> dict[str, tuple[float, float]]:
    """Per source: (share of spike mentions, share of baseline mentions), busiest in the spike first."""
    spike_by, base_by = Counter(m.source for m in spike), Counter(m.source for m in baseline)
    n_s, n_b = max(len(spike), 1), max(len(baseline), 1)
    return {s: (round(c / n_s, 3), round(base_by.get(s, 0) / n_b, 3)) for s, c in spike_by.most_common()}
