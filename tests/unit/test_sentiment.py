"""Sentiment: complaints without emotion words are negative; given labels are kept; Comprehend batches of 25."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from groundswell.adapters.comprehend import ComprehendScorer
from groundswell.domain.listening import score_mentions
from groundswell.domain.models import Mention, Sentiment
from groundswell.domain.sentiment.complaints import ComplaintAwareVader, complaint_evidence
from groundswell.runtime import make_scorer
from infra.cli import main as cli


@pytest.mark.parametrize(
    "text",
    [
        "Flight cancelled again and I've been on hold for 2 hours",
        "Still no refund after three weeks",
        "Why is nobody answering the phone?",
        "my bag never arrived",
    ],
)
def test_complaints_without_emotion_words_are_negative(text: str) -> None:
    assert ComplaintAwareVader().score_one(text)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thank you for the smooth flight, great crew!", Sentiment.POSITIVE),
        ("Flying to Denver tomorrow", Sentiment.NEUTRAL),
        ("I hate this airline, worst trip ever", Sentiment.NEGATIVE),
    ],
)
def test_ordinary_sentiment_is_unchanged(text: str, label: Sentiment) -> None:
    assert ComplaintAwareVader().score_one(text)[0] is label


def test_evidence_counts_each_kind_of_cue_once() -> None:
    assert complaint_evidence("") == 0
    assert complaint_evidence("cancelled cancelled cancelled") == complaint_evidence("cancelled")
    assert complaint_evidence("cancelled, on hold 3 hours, why?") > complaint_evidence("cancelled")


def test_a_label_given_by_the_input_is_kept_and_others_are_scored() -> None:
    base = {"source": "replay", "brand": "b", "author": "a", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    given = Mention(id="1", text="lovely day", sentiment=Sentiment.NEGATIVE, **base)  # type: ignore[arg-type]
    other = Mention(id="2", text="lovely day", **base)  # type: ignore[arg-type]
    scored = score_mentions([given, other], ComplaintAwareVader())
    assert scored[0].sentiment is Sentiment.NEGATIVE and scored[0].sentiment_score is None
    assert scored[1].sentiment is Sentiment.POSITIVE and scored[1].sentiment_score is not None


def test_comprehend_scores_in_batches_of_25() -> None:
    client = boto3.client("comprehend", region_name="us-east-1")
    texts = [f"text {i}" for i in range(30)]
    with Stubber(client) as stub:
        for start, size in ((0, 25), (25, 5)):
            results = [
                {
                    "Index": i,
                    "Sentiment": "NEGATIVE" if (start + i) % 2 else "MIXED",
                    "SentimentScore": {"Positive": 0.1, "Negative": 0.7, "Neutral": 0.1, "Mixed": 0.1},
                }
                for i in range(size)
            ]
            stub.add_response(
                "batch_detect_sentiment",
                {"ResultList": results, "ErrorList": []},
                {"TextList": texts[start : start + size], "LanguageCode": "en"},
            )
        scores = ComprehendScorer(client).score(texts)
    assert scores[1] == (Sentiment.NEGATIVE, -0.6) and scores[0][0] is Sentiment.NEUTRAL and len(scores) == 30


def test_unknown_scorer_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown sentiment scorer"):
        make_scorer("magic")


def test_sentiment_command_adds_its_own_judgement(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        json.dumps({"id": "1", "text": "Still waiting on hold", "sentiment": "positive"}).encode()
        + b"\n"
        + b"not json\n"
        + json.dumps({"id": "2", "text": "Thanks, great service!"}).encode()
        + b"\n"
    )
    out = tmp_path / "out.jsonl"
    assert cli(["sentiment", "--input", str(source), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["sentiment"]) for r in rows] == [("1", "negative"), ("2", "positive")]
    assert all(-1 <= r["sentiment_score"] <= 1 for r in rows)
