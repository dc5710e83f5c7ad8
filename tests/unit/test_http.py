"""The HTTP client: retries with jittered backoff on 429/5xx, Retry-After, no retry on client errors."""

from __future__ import annotations

import random
import urllib.request

import pytest

from groundswell.adapters.http import HttpClient, HttpError, Response
from groundswell.adapters.rate_limits import RateLimiter, retry_after_seconds


class Script:
    """A transport that answers from a list, recording requests."""

    def __init__(self, *answers: Response | Exception):
        self.answers = list(answers)
        self.requests: list[urllib.request.Request] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(transport: Script, sleeps: list[float], **kwargs: object) -> HttpClient:
    return HttpClient(
        name="test",
        transport=transport,
        sleep=sleeps.append,
        rng=random.Random(1),
        limiter=RateLimiter(1000, 1000),
        **kwargs,
    )  # type: ignore[arg-type]


def ok(body: bytes = b'{"ok": true}') -> Response:
    return Response(200, {}, body)


def test_retries_5xx_and_timeouts_then_succeeds() -> None:
    transport = Script(Response(503, {}, b""), TimeoutError("timed out"), ok())
    sleeps: list[float] = []
    assert client(transport, sleeps).get_json("https://api.example/x", {"q": "acme"}) == {"ok": True}
    assert len(transport.requests) == 3
    assert len(sleeps) == 2 and all(0 <= s <= 8 for s in sleeps)
    assert transport.requests[0].full_url == "https://api.example/x?q=acme"


def test_honours_retry_after_on_429() -> None:
    transport = Script(Response(429, {"retry-after": "7"}, b""), ok())
    sleeps: list[float] = []
    client(transport, sleeps).get_json("https://api.example/x")
    assert sleeps == [7.0]


def test_a_long_retry_after_is_left_to_the_next_poll() -> None:
    transport = Script(Response(429, {"retry-after": "600"}, b""))
    with pytest.raises(HttpError) as error:
        client(transport, []).get_json("https://api.example/x")
    assert error.value.status == 429 and error.value.retry_after == 600


def test_client_errors_are_not_retried_and_urls_lose_their_query() -> None:
    transport = Script(Response(404, {}, b"nope"))
    with pytest.raises(HttpError) as error:
        client(transport, []).get_json("https://api.example/x", {"token": "secret"})
    assert len(transport.requests) == 1
    assert error.value.url == "https://api.example/x"
    assert not error.value.transient


def test_gives_up_after_max_attempts() -> None:
    transport = Script(*[Response(502, {}, b"")] * 3)
    with pytest.raises(HttpError, match="HTTP 502"):
        client(transport, [], max_attempts=3).get_json("https://api.example/x")
    assert len(transport.requests) == 3


def test_a_body_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(HttpError, match="not JSON"):
        client(Script(ok(b"<html>")), []).get_json("https://api.example/x")


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(HttpError, match="only http"):
        client(Script(), []).get_json("file:///etc/passwd")


def test_rate_limiter_spaces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, 1, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert sum(slept) == pytest.approx(2.0)  # 5 requests at 2/s after the first: 4 waits of 0.5 s


def test_retry_after_accepts_http_dates() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert retry_after_seconds("soon") is None
