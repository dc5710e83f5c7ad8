"""The one HTTP client every source uses: a whole-request deadline, bounded retries with jittered backoff on
429/5xx (honouring ``Retry-After``), a per-source rate limit, a cap on response size, https only and no
redirect across origins (a credential never reaches a host it was not issued for). Standard library only.

A poll runs inside a time budget (:func:`deadline`): no request, retry or backoff outlives it, so a poll
always ends in time to record its failure inside its Lambda."""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from groundswell.adapters.rate_limits import (
    RateLimiter,
    rate_limit_reset_seconds,
    retry_after_seconds,
    shared_limiter,
)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3
MAX_BODY_BYTES = 5 * 1024 * 1024
ERROR_BODY_BYTES = 2048  # of an error answer, kept to read its error code
MAX_HEADER_CHARS = 1024  # a header value kept longer than this is a hostile or broken server
MIN_ATTEMPT_SECONDS = 0.5  # less time left than this in the budget: do not start another attempt
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
USER_AGENT = "Groundswell/0.1 (brand-crisis monitor; +https://github.com/groundswell-alerts/groundswell)"

_BUDGET_END: contextvars.ContextVar[float | None] = contextvars.ContextVar("groundswell_http_budget", default=None)


class HttpError(Exception):
    """A request failed for good: a client error, or a transient one that outlasted the retries or the budget."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        retry_after: float | None = None,
        body: bytes = b"",
    ):
        super().__init__(message)
        self.status = status
        self.url = url
        self.retry_after = retry_after
        self.body = body[:ERROR_BODY_BYTES]

    @property
    def error_code(self) -> str | None:
        """The ``error`` field of a JSON error body (XRPC's ``ExpiredToken``, ``RateLimitExceeded``), if any."""
        try:
            parsed = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None
        code = parsed.get("error") if isinstance(parsed, dict) else None
        return code[:100] if isinstance(code, str) else None

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUS


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(f"response is not JSON: {exc}", status=self.status) from exc

    def header(self, name: str) -> str | None:
        """A header's value, or None when absent or not a plausible value (over-long, control characters)."""
        value = self.headers.get(name.lower())
        if value is None or len(value) > MAX_HEADER_CHARS or not value.isprintable():
            return None
        return value


Transport = Callable[[urllib.request.Request, float], Response]
"""Sends one request and returns its answer (HTTP error statuses and redirects too, not followed) within the
given number of seconds for the whole exchange: connect, headers and body."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request made inside ends (with its retries) within ``seconds`` from now; nested budgets only
    shorten."""
    end = time.monotonic() + max(0.0, seconds)
    outer = _BUDGET_END.get()
    token = _BUDGET_END.set(end if outer is None else min(outer, end))
    try:
        yield
    finally:
        _BUDGET_END.reset(token)


def time_left() -> float | None:
    """Seconds left in the current budget (None: no budget)."""
    end = _BUDGET_END.get()
    return None if end is None else end - time.monotonic()


def stdlib_transport(request: urllib.request.Request, timeout: float) -> Response:
    """One exchange with ``http.client``, bounded as a whole by ``timeout``: a watchdog closes the socket at
    the deadline, so a server that drips a byte at a time cannot stretch it. Redirects are returned as they
    are (the client decides); TLS certificates are verified."""
    parts = urllib.parse.urlsplit(request.full_url)
    started = time.monotonic()
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    expired = threading.Event()
    sockets: list[socket.socket] = []  # the connection lets go of its socket once the reply owns it

    def expire() -> None:
        expired.set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.connect()
        if connection.sock is not None:
            sockets.append(connection.sock)
            if expired.is_set():  # the deadline passed while connecting (TLS handshake included)
                expire()
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        connection.request(request.get_method(), target, body=request.data, headers=dict(request.header_items()))
        reply = connection.getresponse()
        body = _read_body(reply, sockets, started + timeout, expired)
        headers = {k.lower(): v for k, v in reply.getheaders()}
        return Response(reply.status, headers, body)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise TimeoutError(f"no complete answer within {timeout:.1f} s") from None
        if isinstance(exc, OSError):
            raise
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        connection.close()
        for sock in sockets:
            sock.close()


def _read_body(
    reply: http.client.HTTPResponse, sockets: list[socket.socket], end: float, expired: threading.Event
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        left = end - time.monotonic()
        if left <= 0 or expired.is_set():
            raise TimeoutError("the answer did not complete in time")
        for sock in sockets:
            sock.settimeout(left)
        chunk = reply.read1(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HttpError(f"response larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    if expired.is_set():
        raise TimeoutError("the answer did not complete in time")
    if reply.length:  # the server closed before the Content-Length it announced
        raise ConnectionError(f"answer cut short: {reply.length} bytes missing")
    return b"".join(chunks)


def _safe_url(url: str) -> str:
    """The URL without its query string (it may carry tokens) for logs and errors."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port made explicit: two URLs share credentials only if equal."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port if port is not None else default


def check_url(url: str) -> None:
    """https only; plain http only to this machine (local emulators and tests). Raises :class:`HttpError`."""
    parts = urllib.parse.urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme == "https" and host:
        return
    if scheme == "http" and host in LOOPBACK_HOSTS:
        return
    raise HttpError(f"only https URLs are fetched (plain http only on this machine), not {url[:40]!r}")


@dataclass
class HttpClient:
    """HTTP for one source. ``transport``, ``sleep`` and ``rng`` are injectable for tests.

    ``timeout`` bounds each attempt as a whole (connect, headers, body); the current :func:`deadline`, if
    any, bounds the request with its retries and waits. A redirect is followed only to the same origin
    (scheme, host and port), at most ``MAX_REDIRECTS`` times; one to another origin is refused with an error
    naming where it pointed, so headers such as ``Authorization`` never leave their host."""

    name: str
    rate_per_second: float = 5.0
    burst: int = 5
    timeout: float = 10.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0
    transport: Transport = stdlib_transport
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    limiter: RateLimiter | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = shared_limiter(self.name, self.rate_per_second, self.burst)

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        return self.request("GET", url, params=params, headers=headers).json()

    def post_json(self, url: str, payload: Any, headers: Mapping[str, str] | None = None) -> Any:
        body = json.dumps(payload).encode()
        merged = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", url, body=body, headers=merged).json()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        accept: tuple[int, ...] = (),
    ) -> Response:
        """Sends a request, retrying transient failures; raises :class:`HttpError` when it gives up.

        A 2xx answer, or one whose status is in ``accept`` (e.g. 304), is returned."""
        check_url(url)
        if params:
            query = urllib.parse.urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        all_headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json, application/xml;q=0.9, */*;q=0.5",
            **(headers or {}),
        }
        last_error: HttpError | None = None
        for attempt in range(self.max_attempts):
            budget = self._attempt_budget(url, last_error)
            assert self.limiter is not None
            self.limiter.acquire()
            try:
                response = self._exchange(method, url, all_headers, body, budget)
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, DNS
                last_error = HttpError(f"{type(exc).__name__}: {exc}", url=_safe_url(url))
                wait = self._backoff(attempt)
            else:
                if 200 <= response.status < 300 or response.status in accept:
                    return response
                retry_after = retry_after_seconds(response.header("retry-after"))
                if retry_after is None:
                    retry_after = rate_limit_reset_seconds(response.header("ratelimit-reset"))
                last_error = HttpError(
                    f"HTTP {response.status} from {self.name}",
                    status=response.status,
                    url=_safe_url(url),
                    retry_after=retry_after,
                    body=response.body,
                )
                if response.status not in RETRYABLE_STATUS:
                    raise last_error
                if retry_after is not None and retry_after > self.max_retry_after:
                    raise last_error  # the source asks for a long pause: leave it to the next poll
                wait = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt + 1 < self.max_attempts:
                left = time_left()
                if left is not None and left - wait < MIN_ATTEMPT_SECONDS:
                    break  # no time for another attempt after the wait: give up now, inside the budget
                self.sleep(wait)
        assert last_error is not None
        raise last_error

    def _attempt_budget(self, url: str, last_error: HttpError | None) -> float:
        left = time_left()
        if left is None:
            return self.timeout
        if left < MIN_ATTEMPT_SECONDS:
            reason = f" (last: {last_error})" if last_error else ""
            raise HttpError(f"out of time for this poll before asking {self.name}{reason}", url=_safe_url(url))
        return min(self.timeout, left)

    def _exchange(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, budget: float
    ) -> Response:
        """One attempt, following same-origin redirects within ``budget`` seconds."""
        end = time.monotonic() + budget
        for _ in range(MAX_REDIRECTS + 1):
            request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310
            response = self.transport(request, max(0.001, end - time.monotonic()))
            if response.status not in REDIRECT_STATUS:
                return response
            target = self._redirect_target(url, response)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = target
        raise HttpError(f"more than {MAX_REDIRECTS} redirects from {self.name}", url=_safe_url(url))

    def _redirect_target(self, url: str, response: Response) -> str:
        location = response.header("location")
        if not location:
            raise HttpError(f"HTTP {response.status} from {self.name} without a usable Location", url=_safe_url(url))
        target = urllib.parse.urljoin(url, location)
        if origin(target) != origin(url):
            raise HttpError(
                f"{self.name} redirected to another host ({_safe_url(target)[:120]}); not followed: "
                "update the source's URL if it has moved",
                status=response.status,
                url=_safe_url(url),
            )
        return target

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return self.rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
