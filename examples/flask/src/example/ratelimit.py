"""The login rate limit: AUTH_RATE_LIMIT attempts per client address, via the `limits` library.

Counters live in memory (per process) by default and in Redis when REDIS_URL is set, so
that every worker process shares them. A Redis that does not answer (within
REDIS_TIMEOUT_SECONDS) makes a login a 503, like an unreachable database: the login cannot
be counted, so it is not tried.
"""

import math
import time

REDIS_TIMEOUT_SECONDS = 2.0


class LoginRateLimiter:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        # Imported by the app factory, not by every import of the app (limits loads each of
        # its storage backends).
        from limits import parse, storage, strategies
        from limits.errors import StorageError

        self._item = parse(rate)
        self._storage_error = StorageError
        if redis_url:
            backend = storage.storage_from_string(
                redis_url,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        else:
            backend = storage.storage_from_string("memory://")
        self._limiter = strategies.MovingWindowRateLimiter(backend)

    def hit(self, client: str) -> bool:
        """Count one attempt from `client`; False once it is over the limit.

        Raises ConnectionError (answered with a 503) when Redis does not answer."""
        try:
            return self._limiter.hit(self._item, "login", client)
        except self._storage_error as error:
            msg = "the login rate limit's Redis does not answer"
            raise ConnectionError(msg) from error

    def retry_after(self, client: str) -> int:
        """Whole seconds until `client` may try again."""
        reset_time, _ = self._limiter.get_window_stats(self._item, "login", client)
        return max(1, math.ceil(reset_time - time.time()))

    def reset(self) -> None:
        """Forget every count (the tests share one app, and start each test with none)."""
        self._limiter.storage.reset()
