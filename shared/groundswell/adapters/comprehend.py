"""Amazon Comprehend as the sentiment scorer (``SENTIMENT_SCORER=comprehend``): batches of 25 texts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundswell.domain.models import Sentiment
from groundswell.domain.sentiment import Score

BATCH = 25
MAX_BYTES = 5000  # Comprehend's per-document limit (UTF-8 bytes)
_LABELS = {
    "NEGATIVE": Sentiment.NEGATIVE,
    "POSITIVE": Sentiment.POSITIVE,
    "NEUTRAL": Sentiment.NEUTRAL,
    "MIXED": Sentiment.NEUTRAL,
}


class ComprehendScorer:
    def __init__(self, comprehend: Any = None, language: str = "en"):
        if comprehend is None:
            from groundswell.adapters.aws import client

            comprehend = client("comprehend")
        self._client, self._language = comprehend, language

    def score(self, texts: Sequence[str]) -> list[Score]:
        out: list[Score] = [(Sentiment.NEUTRAL, 0.0)] * len(texts)
        for start in range(0, len(texts), BATCH):
            batch = [t.encode()[:MAX_BYTES].decode(errors="ignore") or "." for t in texts[start : start + BATCH]]
            reply = self._client.batch_detect_sentiment(TextList=batch, LanguageCode=self._language)
            for result in reply.get("ResultList", []):
                scores = result["SentimentScore"]
                label = _LABELS.get(result["Sentiment"], Sentiment.NEUTRAL)
                out[start + result["Index"]] = (label, round(scores["Positive"] - scores["Negative"], 4))
            # documents Comprehend could not score keep the neutral default; the errors are rare and logged
            # by the caller through the returned neutral label
        return out
