"""Rate limiting: at most N requests per period from one client, per route, Router or app.

`RateLimit("100/minute")` counts requests by key (the client's address by default: behind a
proxy, wire ProxyFix first so `request.remote_addr` is the client's) in fixed windows, and answers
429 with `Retry-After` and `RateLimit-*` headers once a key is over. The counts live in a store:
`MemoryStore` (the default) for one process, `RedisStore` for every worker and machine sharing one
Redis. The core never imports this module; `redis` is imported only by a `RedisStore`.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, cast

from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from .response import Response, make_response

if TYPE_CHECKING:
    from .app import App
    from .request import Request
    from .routes import Router

H = TypeVar("H", bound=Callable[..., Any])
logger = logging.getLogger("wsgilite.ratelimit")

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*", re.I)
_STATE = "wsgilite.ratelimit"


@dataclass(frozen=True, slots=True)
class Rate:
    """A number of requests per period: `Rate.parse("100/minute")`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Read "100/minute", "5 per second", "1000/hour", "10/5 minutes"."""
        match = _RATE.fullmatch(text)
        if match is None or int(match[1]) < 1 or (match[2] is not None and int(match[2]) < 1):
            raise ValueError(
                f"rate limit {text!r} is not understood; write a count per period, as "
                "'100/minute', '10/second', '1000/hour', '5/day' or '10/5 minutes'"
            )
        return cls(int(match[1]), int(match[2] or 1) * _UNITS[match[3].lower()])


class Hit(NamedTuple):
    """What a store says about one more request: allowed, and how many remain until when."""

    allowed: bool
    remaining: int
    reset: float  # seconds until the window ends


class Store(Protocol):
    """Where the counts live."""

    def hit(self, key: str, rate: Rate) -> Hit:
        """Count one request for `key` and say whether it is within `rate`."""
        ...


class MemoryStore:
    """Fixed windows in this process's memory, safe across threads (not across processes)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window's end, count)
        self._next_sweep = 0.0

    def hit(self, key: str, rate: Rate) -> Hit:
        """Count one request for `key` and say whether it is within `rate`."""
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            end, count = self._windows.get(key, (0.0, 0))
            if now >= end:
                end, count = now + rate.seconds, 0
            count += 1
            self._windows[key] = (end, count)
        return Hit(count <= rate.count, max(rate.count - count, 0), end - now)

    def _sweep(self, now: float) -> None:
        # Ended windows are forgotten about once a minute, so memory follows the active clients.
        self._windows = {key: window for key, window in self._windows.items() if window[0] > now}
        self._next_sweep = now + 60


# Atomic in Redis: count, start the window's expiry on its first request, report the time left.
_REDIS_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisStore:
    """Fixed windows in Redis, shared by every worker and machine that uses the same server.

    `fail_open=True` (the default) lets requests through, with a warning in the log, while Redis
    cannot be reached: the site stays up, unlimited. `fail_open=False` answers 503 instead, for
    limits that protect something costlier than an outage (a paid API, login attempts).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: Any = None,
        prefix: str = "wsgilite:ratelimit:",
        fail_open: bool = True,
        timeout: float = 0.5,
    ) -> None:
        if client is None:
            try:
                import redis
            except ImportError:
                raise RuntimeError(
                    "RedisStore needs the redis package: pip install 'wsgilite[redis]'"
                ) from None
            client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        self.client = client
        self.prefix = prefix
        self.fail_open = fail_open
        self._script = client.register_script(_REDIS_SCRIPT)

    def hit(self, key: str, rate: Rate) -> Hit:
        """Count one request for `key` in Redis and say whether it is within `rate`."""
        window = int(rate.seconds * 1000)
        try:
            count, ttl = self._script(keys=[f"{self.prefix}{key}"], args=[window])
        except Exception as exc:  # redis.ConnectionError, TimeoutError, ...: Redis is down
            if self.fail_open:
                logger.warning("rate limit not enforced: Redis failed (%s)", exc)
                return Hit(True, rate.count, float(rate.seconds))
            raise ServiceUnavailable("the rate limiter's store is unavailable") from exc
        count = int(count)
        return Hit(count <= rate.count, max(rate.count - count, 0), int(ttl) / 1000)


def client_address(request: Request) -> str:
    """Return the client's address (the proxy's, unless ProxyFix is wired)."""
    return request.remote_addr or "unknown"


class Limited(TooManyRequests):
    """429 Too Many Requests, with `Retry-After` and the `RateLimit-*` headers."""

    def __init__(self, headers: list[tuple[str, str]], retry_after: int) -> None:
        super().__init__(f"too many requests; try again in {retry_after} seconds")
        self.limit_headers = headers
        self.retry_after_seconds = retry_after

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """Return the error's headers with Retry-After and RateLimit-*."""
        extra = [("Retry-After", str(self.retry_after_seconds)), *self.limit_headers]
        return [*super().get_headers(*args, **kwargs), *extra]


class RateLimit:
    """Allow `limit` requests per client: on a route (decorator), a Router or the App.

    per_client = RateLimit("100/minute")
    @per_client
    def search(request): ...
    RateLimit("1000/hour", store=RedisStore(url)).install(app)
    RateLimit("5/minute", key=lambda request: request.form.get("username", "")).protect(login)
    """

    def __init__(
        self,
        limit: str | Rate,
        *,
        key: Callable[[Request], str] = client_address,
        store: Store | None = None,
        scope: str | None = None,
        headers: bool = True,
    ) -> None:
        self.rate = Rate.parse(limit) if isinstance(limit, str) else limit
        self.key = key
        self.store: Store = store if store is not None else MemoryStore()
        self.scope = scope
        self.headers = headers
        self._policy = f"{self.rate.count};w={self.rate.seconds}"

    def check(self, request: Request, scope: str | None = None) -> None:
        """Count this request; raise a 429 if its key is over the limit."""
        name = scope or self.scope or "app"
        hit = self.store.hit(f"{name}:{self.key(request)}", self.rate)
        reset = max(math.ceil(hit.reset), 0)
        headers = [
            ("RateLimit-Limit", str(self.rate.count)),
            ("RateLimit-Remaining", str(hit.remaining)),
            ("RateLimit-Reset", str(reset)),
            ("RateLimit-Policy", self._policy),
        ]
        if not hit.allowed:
            raise Limited(headers, max(reset, 1))
        if self.headers:
            request.environ[_STATE] = headers

    def add_headers(self, request: Request, response: Response) -> Response:
        """Tell an allowed client how much of its limit is left."""
        headers = request.environ.pop(_STATE, None)
        if headers is not None:
            for name, value in headers:
                response.headers[name] = value
        return response

    def __call__(self, handler: H) -> H:
        """Limit the requests to `handler` (each decorated handler has its own counts)."""
        scope = self.scope or f"{handler.__module__}.{handler.__qualname__}"

        @functools.wraps(handler)
        def limited(request: Request, /, *args: Any, **kwargs: Any) -> Response:
            self.check(request, scope)
            response = make_response(handler(request, *args, **kwargs), handler, request)
            return self.add_headers(request, response)

        return cast("H", limited)

    def protect(self, router: Router) -> Router:
        """Limit every route of `router` together (before `app.include(router)`)."""
        scope = self.scope or f"router:{router.name or router.prefix}"
        router.before_request(lambda request: self.check(request, scope))
        router.after_request(self.add_headers)
        return router

    def install(self, app: App) -> App:
        """Limit every request to `app` together."""
        app.before_request(self.check)
        app.after_request(self.add_headers)
        return app
