"""Sentiment scoring: the scorer protocol (the default offline scorer is ``complaints``; the Comprehend one is
an adapter; ``runtime.make_scorer`` picks one by name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from groundswell.domain.models import Sentiment

Score = tuple[Sentiment, float]


class Scorer(Protocol):
    """Scores texts; returns a (label, score in [-1, 1]) pair per text, in order."""

    def score(self, texts: Sequence[str]) -> list[Score]: ...
