"""The default scorer: VADER (Hutto & Gilbert, ICWSM 2014) plus a customer-complaint layer.

VADER reads emotion words; service complaints often have none ("on hold for 2 hours", "flight cancelled
again", "still no refund"). On the airline tweets VADER alone finds 44% of the negatives. The complaint
layer adds generic service-failure vocabulary (failures, waiting, lost things, money back, being ignored,
repetition), lengths of waiting time, demand questions and sarcastic thanks. Its word lists describe
customer service in general, not any dataset's tweets.

score = VADER compound - complaint evidence (clipped to [-1, 1]); negative at <= -0.05, positive at >= 0.05,
VADER's own thresholds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from groundswell.domain.models import Sentiment
from groundswell.domain.sentiment import Score

# Word stems of service failures and their consequences: a token counts if it starts with one of these.
FAILURE_STEMS = (
    "cancel",
    "delay",
    "strand",
    "stuck",
    "broke",
    "damag",
    "fail",
    "error",
    "outage",
    "crash",
    "glitch",
    "overbook",
    "divert",
    "reschedul",
    "rebook",
    "mistake",
    "overcharg",
    "refund",
    "compensat",
    "reimburs",
    "voucher",
    "complain",
    "complaint",
    "unacceptabl",
    "ridiculous",
    "disgrace",
    "pathetic",
    "incompeten",
    "recall",
    "defect",
    "unsafe",
    "leak",
    "scam",
    "fraud",
    "breach",
    "issue",
    "problem",
    "trouble",
    "difficult",
    "impossible",
    "headache",
    "hassle",
    "inadequate",
    "understaff",
    "unprofessional",
    "unhelpful",
    "useless",
    "horribl",
    "terribl",
    "awful",
    "worst",
    "worse",
    "disappoint",
    "frustrat",
    "annoy",
    "upset",
    "angry",
    "furious",
    "rude",
    "incorrect",
    "unable",
    "lack",
    "poor",
    "missed",
    "missing",
)
FAILURE_WORDS = frozenset(
    {
        "late",
        "later",
        "lost",
        "lose",
        "losing",
        "down",
        "bug",
        "bugs",
        "wrong",
        "mess",
        "charged",
        "fee",
        "fees",
        "claim",
        "joke",
        "bumped",
        "nothing",
        "smh",
        "ugh",
        "fix",
        "cant",
        "can't",
        "cannot",
        "couldn't",
        "couldnt",
        "won't",
        "wont",
        "didn't",
        "didnt",
        "doesn't",
        "doesnt",
        "isn't",
        "isnt",
        "wasn't",
        "wasnt",
        "not",
        "no",
    }
)
WAITING_WORDS = frozenset(
    {
        "waiting",
        "wait",
        "waited",
        "still",
        "yet",
        "never",
        "nobody",
        "again",
        "hold",
        "ignored",
        "ignoring",
        "ignore",
        "hours",
        "hrs",
        "hr",
    }
)
WAITING_PHRASES = (
    "on hold",
    "no one",
    "no response",
    "no reply",
    "no answer",
    "no help",
    "no update",
    "no info",
    "no reason",
    "hung up",
    "hang up",
    "every time",
    "third time",
    "second time",
    "please help",
    "help?",
    "what gives",
    "thanks a lot",
    "thanks for nothing",
    "thx for nothing",
    "sure love",
    "what a joke",
    "come on",
)
DEMAND_WORDS = frozenset({"why", "where", "how", "when"})

_TOKEN = re.compile(r"[a-z']+|\d+|\?")
_STEM_LENGTHS = sorted({len(s) for s in FAILURE_STEMS})
_STEMS = frozenset(FAILURE_STEMS)
_DURATION_UNITS = frozenset({"hour", "hours", "hrs", "hr", "days", "day", "weeks", "mins", "minutes"})
_NUMBERS = frozenset({"a", "an", "one", "two", "three", "four", "five", "six", "several", "many", "multiple"})

WEIGHTS = {"failure": 0.3, "negation": 0.15, "waiting": 0.3, "duration": 0.3, "demand": 0.2}


_NEGATIONS = frozenset({"not", "no", "nothing", "cannot", "cant", "wont", "didnt", "doesnt", "isnt", "wasnt"})
_token_kinds: dict[str, str | None] = {}


def _token_kind(token: str) -> str | None:
    """``failure``, ``negation`` or ``None`` for one lower-case token (memoised: vocabularies repeat)."""
    kind = _token_kinds.get(token, "")
    if kind != "":
        return kind
    if token in FAILURE_WORDS:
        kind = "negation" if token in _NEGATIONS or "'" in token else "failure"
    elif any(token[:n] in _STEMS for n in _STEM_LENGTHS if n <= len(token)):
        kind = "failure"
    else:
        kind = None
    if len(_token_kinds) > 200_000:
        _token_kinds.clear()
    _token_kinds[token] = kind
    return kind


def complaint_evidence(text: str) -> float:
    """How strongly ``text`` reads as a service complaint, 0 to 1 (each kind of cue counts once)."""
    lower = text.lower()
    tokens = _TOKEN.findall(lower)
    kinds: set[str] = set()
    previous = ""
    for token in tokens:
        kind = _token_kind(token)
        if kind:
            kinds.add(kind)
        if token in WAITING_WORDS:
            kinds.add("waiting")
        if token in _DURATION_UNITS and (previous.isdigit() or previous in _NUMBERS):
            kinds.add("duration")
        previous = token
    if "?" in tokens and not DEMAND_WORDS.isdisjoint(tokens):
        kinds.add("demand")
    if "waiting" not in kinds and any(p in lower for p in WAITING_PHRASES):
        kinds.add("waiting")
    return min(1.0, sum(WEIGHTS[k] for k in kinds))


class ComplaintAwareVader:
    """Offline scorer: a label and a score in [-1, 1] (VADER's compound less the complaint evidence)."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def score(self, texts: Sequence[str]) -> list[Score]:
        return [self.score_one(text) for text in texts]

    def score_one(self, text: str) -> Score:
        compound = self._vader.polarity_scores(text)["compound"]
        score = max(-1.0, min(1.0, compound - complaint_evidence(text)))
        if score <= -0.05:
            return Sentiment.NEGATIVE, round(score, 4)
        if score >= 0.05:
            return Sentiment.POSITIVE, round(score, 4)
        return Sentiment.NEUTRAL, round(score, 4)
