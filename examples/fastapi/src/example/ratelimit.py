"""The login rate limit: AUTH_RATE_LIMIT attempts per client address, via the `limits` library.

Counters live in memory (per process) by default and in Redis when REDIS_URL is set, so
that every worker process shares them.
"""

import math
import time


class LoginRateLimiter:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        # Imported by the app factory, not by every import of the app (limits loads each of
        # its storage backends).
        from limits import parse, storage, strategies

        self._item = parse(rate)
        backend = storage.storage_from_string(redis_url or "memory://")
        self._limiter = strategies.MovingWindowRateLimiter(backend)

    def hit(self, client: str) -> bool:
        """Count one attempt from `client`; False once it is over the limit."""
        return self._limiter.hit(self._item, "login", client)

    def retry_after(self, client: str) -> int:
        """Whole seconds until `client` may try again."""
        reset_time, _ = self._limiter.get_window_stats(self._item, "login", client)
        return max(1, math.ceil(reset_time - time.time()))

    def reset(self) -> None:
        """Forget every count (the tests share one app, and start each test with none)."""
        self._limiter.storage.reset()
