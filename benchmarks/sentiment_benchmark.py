"""Quality and speed of the default sentiment scorer on the labelled airline tweets.

    python -m benchmarks.sentiment_benchmark

Prints accuracy, macro-F1, negative-class precision/recall/F1 for plain VADER (the baseline) and for the
default scorer, and both scorers' texts per second on one core, measured in the same process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from benchmarks.common import airline_tweets
from groundswell.domain.sentiment.complaints import ComplaintAwareVader

LABELS = ("negative", "neutral", "positive")


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {"accuracy": sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)}
    f1s = []
    for label in LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label != t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label != p for t, p in zip(truth, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        if label == "negative":
            out.update(negative_precision=precision, negative_recall=recall, negative_f1=f1)
    out["macro_f1"] = sum(f1s) / len(f1s)
    return out


def vader_only() -> Callable[[str], str]:
    analyzer = SentimentIntensityAnalyzer()

    def label(text: str) -> str:
        c = analyzer.polarity_scores(text)["compound"]
        return "negative" if c <= -0.05 else "positive" if c >= 0.05 else "neutral"

    return label


def default_scorer() -> Callable[[str], str]:
    scorer = ComplaintAwareVader()
    return lambda text: scorer.score_one(text)[0].value


def speed(label: Callable[[str], str], texts: Sequence[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            label(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> None:
    rows = airline_tweets()
    texts = [r["text"] for r in rows]
    truth = [r["airline_sentiment"] for r in rows]
    print(
        f"airline tweets: {len(rows)} (deduplicated on tweet_id); "
        f"{sum(t == 'negative' for t in truth)} labelled negative"
    )
    print(f"{'scorer':<22}{'accuracy':>9}{'macro-F1':>9}{'neg-P':>7}{'neg-R':>7}{'neg-F1':>8}{'texts/s':>10}")
    results = {}
    for name, factory in (("vader (baseline)", vader_only), ("default (groundswell)", default_scorer)):
        label = factory()
        m = metrics(truth, [label(t) for t in texts])
        rate = speed(label, texts)
        results[name] = rate
        print(
            f"{name:<22}{m['accuracy']:>9.3f}{m['macro_f1']:>9.3f}{m['negative_precision']:>7.3f}"
            f"{m['negative_recall']:>7.3f}{m['negative_f1']:>8.3f}{rate:>10,.0f}"
        )
    print(
        f"speed ratio default/vader in this process: "
        f"{results['default (groundswell)'] / results['vader (baseline)']:.2f}"
    )


if __name__ == "__main__":
    main()
