"""The one HTTP client every source uses: timeouts, bounded retries with jittered backoff on 429/5xx
(honouring ``Retry-After``), a per-source rate limit and a cap on response size. Standard library only."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BODY_BYTES = 5 * 1024 * 1024
USER_AGENT = "Groundswell/0.1 (brand-crisis monitor; +https://github.com/groundswell-alerts/groundswell)"


class HttpError(Exception):
    """A request failed for good: a client error, or a transient one that outlasted the retries."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.url = url
        self.retry_after = retry_after

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


Transport = Callable[[urllib.request.Request, float], Response]


def urllib_transport(request: urllib.request.Request, timeout: float) -> Response:
    """Sends one request with urllib; HTTP error statuses come back as responses, not exceptions."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (http/https only, checked)
            body = reply.read(MAX_BODY_BYTES + 1)
            status, headers = reply.status, dict(reply.headers.items())
    except urllib.error.HTTPError as exc:
        body = exc.read(64 * 1024) if exc.fp else b""
        status, headers = exc.code, dict(exc.headers.items()) if exc.headers else {}
    if len(body) > MAX_BODY_BYTES:
        raise HttpError(f"response larger than {MAX_BODY_BYTES} bytes", url=_safe_url(request.full_url))
    return Response(status, {k.lower(): v for k, v in headers.items()}, body)


class RateLimiter:
    """A token bucket: at most ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self._clock, self._sleep = rate, burst, clock, sleep
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                self._sleep(wait)
                self._last = self._clock()
                self._tokens = 0.0
            else:
                self._tokens -= 1


_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(key: str, rate: float, burst: int = 1) -> RateLimiter:
    """One limiter per key (e.g. ``mastodon:mastodon.social``) for the whole process."""
    with _LIMITERS_LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = RateLimiter(rate, burst)
        return _LIMITERS[key]


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _safe_url(url: str) -> str:
    """The URL without its query string (it may carry tokens) for logs and errors."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass
class HttpClient:
    """HTTP for one source. ``transport``, ``sleep`` and ``rng`` are injectable for tests."""

    name: str
    rate_per_second: float = 5.0
    burst: int = 5
    timeout: float = 10.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0
    transport: Transport = urllib_transport
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
        if not url.startswith(("https://", "http://")):
            raise HttpError(f"only http(s) URLs are fetched, not {url[:30]!r}", url=url)
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
            assert self.limiter is not None
            self.limiter.acquire()
            request = urllib.request.Request(url, data=body, headers=all_headers, method=method)  # noqa: S310
            try:
                response = self.transport(request, self.timeout)
            except (OSError, urllib.error.URLError) as exc:  # timeouts, resets, DNS
                last_error = HttpError(f"{type(exc).__name__}: {exc}", url=_safe_url(url))
                wait = self._backoff(attempt)
            else:
                if 200 <= response.status < 300 or response.status in accept:
                    return response
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
                last_error = HttpError(
                    f"HTTP {response.status} from {self.name}",
                    status=response.status,
                    url=_safe_url(url),
                    retry_after=retry_after,
                )
                if response.status not in RETRYABLE_STATUS:
                    raise last_error
                if retry_after is not None and retry_after > self.max_retry_after:
                    raise last_error  # the source asks for a long pause: leave it to the next poll
                wait = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt + 1 < self.max_attempts:
                self.sleep(wait)
        assert last_error is not None
        raise last_error

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return self.rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
