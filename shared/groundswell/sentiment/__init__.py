"""Sentiment scoring: the scorer protocol, the default offline scorer, and the Comprehend adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from groundswell.models import Sentiment

Score = tuple[Sentiment, float]


class Scorer(Protocol):
    """Scores texts; returns a (label, score in [-1, 1]) pair per text, in order."""

    def score(self, texts: Sequence[str]) -> list[Score]: ...


def make_scorer(name: str = "default") -> Scorer:
    """The scorer configured by name: ``default`` (offline, VADER + complaint rules) or ``comprehend``."""
    if name == "default":
        from groundswell.sentiment.complaints import ComplaintAwareVader

        return ComplaintAwareVader()
    if name == "comprehend":
        from groundswell.adapters.comprehend import ComprehendScorer

        return ComprehendScorer()
    raise ValueError(f"unknown sentiment scorer {name!r}: use 'default' or 'comprehend'")
