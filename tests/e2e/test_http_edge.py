"""The HTTP client against real sockets on 127.0.0.1: credentials never follow a redirect to another origin,
a dripping server cannot stretch a request past its deadline, and a poll's budget bounds every retry."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from groundswell.adapters.http import HttpClient, HttpError, deadline
from groundswell.adapters.rate_limits import RateLimiter

pytestmark = pytest.mark.e2e


class Host(BaseHTTPRequestHandler):
    """Answers by path: ``/redirect?to=URL``, ``/drip``, ``/slow-headers``, ``/ok``; records what it saw."""

    seen: ClassVar[list[tuple[int, str, str | None]]] = []

    def do_GET(self) -> None:
        with contextlib.suppress(ConnectionError):  # the client gave up on a slow answer, as it should
            self._answer()

    def _answer(self) -> None:
        port = self.server.server_address[1]
        Host.seen.append((port, self.path, self.headers.get("Authorization")))
        path, _, query = self.path.partition("?")
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query.removeprefix("to="))
            self.end_headers()
        elif path == "/drip":  # 12 bytes, one every 0.4 s: each read is quick, the whole is slow
            self.send_response(200)
            self.send_header("Content-Length", "12")
            self.end_headers()
            for _ in range(12):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.4)
        elif path == "/slow-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(12):
                self.wfile.write(f"X-Drip-{i}: 1\r\n".encode())
                self.wfile.flush()
                time.sleep(0.4)
            self.wfile.write(b"Content-Length: 2\r\n\r\n{}")
        elif path == "/unavailable":
            self.send_response(503)
            self.send_header("Retry-After", "\u00b2")  # a superscript two: isdigit() but not a number
            self.end_headers()
        else:
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve() -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def hosts() -> Iterator[tuple[str, str]]:
    """Two origins: the source, and a stranger on another port."""
    first, first_url = serve()
    second, second_url = serve()
    Host.seen = []
    try:
        yield first_url, second_url
    finally:
        first.shutdown()
        second.shutdown()


def client(**kwargs: Any) -> HttpClient:
    return HttpClient(name="edge", limiter=RateLimiter(1000, 1000), sleep=lambda s: None, **kwargs)


def test_a_redirect_to_another_origin_is_refused_and_the_token_stays_home(hosts: tuple[str, str]) -> None:
    source, stranger = hosts
    with pytest.raises(HttpError, match="redirected to another host") as error:
        client().get_json(f"{source}/redirect?to={stranger}/ok", headers={"Authorization": "Bearer secret-token"})
    assert not error.value.transient  # not retried: the operator must update the URL
    stranger_port = int(stranger.rsplit(":", 1)[1])
    assert [seen for seen in Host.seen if seen[0] == stranger_port] == []  # never even asked
    assert all(auth in (None, "Bearer secret-token") for _, _, auth in Host.seen)


def test_a_redirect_on_the_same_origin_is_followed(hosts: tuple[str, str]) -> None:
    source, _ = hosts
    assert client().get_json(f"{source}/redirect?to=/ok", headers={"Authorization": "Bearer t"}) == {"ok": True}
    assert [path for _, path, _ in Host.seen] == ["/redirect?to=/ok", "/ok"]


def test_a_redirect_from_https_to_http_is_refused() -> None:
    from groundswell.adapters.http import Response

    def transport(request: Any, timeout: float) -> Response:
        return Response(301, {"location": "http://api.example/x"}, b"")

    with pytest.raises(HttpError, match="another host"):
        client(transport=transport).get_json("https://api.example/x", headers={"Authorization": "Bearer t"})


def test_plain_http_is_refused_except_on_this_machine() -> None:
    with pytest.raises(HttpError, match="only https"):
        client().get_json("http://api.example/x")


@pytest.mark.parametrize("path", ["/drip", "/slow-headers"])
def test_a_dripping_host_cannot_stretch_a_request_past_its_deadline(hosts: tuple[str, str], path: str) -> None:
    source, _ = hosts
    started = time.monotonic()
    with pytest.raises(HttpError, match="TimeoutError"):
        client(timeout=1.0, max_attempts=1).get_json(f"{source}{path}")
    assert time.monotonic() - started < 1.6  # the whole exchange, not each read (4.8 s before)


def test_a_polls_budget_bounds_every_retry_and_wait(hosts: tuple[str, str]) -> None:
    source, _ = hosts
    slow = HttpClient(name="edge", limiter=RateLimiter(1000, 1000), timeout=1.0, max_attempts=10)
    started = time.monotonic()
    with deadline(2.5), pytest.raises(HttpError):
        slow.get_json(f"{source}/drip")
    assert time.monotonic() - started < 2.6


def test_a_retry_after_that_is_not_a_number_is_an_http_error_not_a_crash(hosts: tuple[str, str]) -> None:
    source, _ = hosts
    with pytest.raises(HttpError, match="HTTP 503"):
        client(max_attempts=2).get_json(f"{source}/unavailable")


def test_a_poll_on_a_dripping_host_ends_and_records_its_failure_inside_its_lambda(
    aws: Any, hosts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Lambda with 18 s left keeps 15 s in reserve: the fetch (4 attempts of 10 s before) gives up after
    about 3 s and the failure is stored, the message reported failed for SQS to redeliver."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from functions.poll_mentions import app as poller
    from groundswell.runtime import store
    from infra.brand_files import parse_brands
    from infra.lambda_runtime import LambdaContext, sqs_event

    source, _ = hosts
    monkeypatch.setenv("HACKERNEWS_API", f"{source}/drip")
    store().brands.put_many(
        parse_brands({"name": "acme-air", "terms": {"keywords": ["acme"]}, "sources": [{"type": "hackernews"}]})
    )

    class ShortLambda(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 18_000

    body = '{"brand": "acme-air", "source": "hackernews", "now": "2026-11-20T17:00:00Z"}'
    started = time.monotonic()
    with pytest.raises(BatchProcessingError, match="TimeoutError"):  # every record failed: SQS redelivers
        poller.handler(sqs_event([{"MessageId": "m1", "ReceiptHandle": "r", "Body": body}]), ShortLambda())
    assert time.monotonic() - started < 5.0
    cursor = store().cursors.load("acme-air", "hackernews")
    assert cursor.failures == 1 and cursor.state is None
