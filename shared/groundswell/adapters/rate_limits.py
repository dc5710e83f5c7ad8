"""How fast a source may be asked, and how long it asks us to wait: a token bucket per source, and the
``Retry-After`` and ``RateLimit-Reset`` headers read defensively (junk gives None, never an exception)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

MAX_HEADER_CHARS = 1024  # a header value longer than this comes from a hostile or broken server


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


MAX_RETRY_AFTER_HEADER = 7 * 86400.0  # anything larger is clamped: only "a long pause" matters


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (ASCII delta-seconds or an HTTP date); None for anything
    else (``²``, ``-5``, ``1e9``, garbage), never an exception."""
    if not value or len(value) > MAX_HEADER_CHARS:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value[:12]), MAX_RETRY_AFTER_HEADER)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, when - (time.time() if now is None else now)), MAX_RETRY_AFTER_HEADER)


def rate_limit_reset_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds until a ``RateLimit-Reset`` header: delta-seconds, or a Unix time as Bluesky sends it."""
    if not value or not value.strip().isascii() or not value.strip().isdigit() or len(value) > 20:
        return None
    number = float(value.strip())
    if number > 1e9:  # a moment, not a delay
        number = number - (time.time() if now is None else now)
    return min(max(0.0, number), MAX_RETRY_AFTER_HEADER)
