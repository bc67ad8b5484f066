"""One login limit for the token endpoint and the admin login; the authentication events.

AUTH_RATE_LIMIT, in a moving window, counts
- every attempt per client address (client_address.py): one address cannot try many
  accounts, nor many passwords;
- every failed attempt per account (the e-mail address tried, known or not): many addresses
  together cannot try many passwords of one account, and once they have used the limit up,
  the account's right password is refused too until the window moves on. Its owner's
  successful logins do not use it up.
Counters live in memory (per process) by default and in Redis when REDIS_URL is set, so
that every worker process shares them (more than one worker without Redis is refused at start).
A Redis that does not answer (within REDIS_TIMEOUT_SECONDS) makes a login a 503, like an
unreachable database: the login cannot be counted, so it is not tried.

Every login success and failure is a structured log event, `login_succeeded` or `login_failed`,
with the account, the client address, the way in (`via`: "token" or "admin") and,
for failures, the reason: never the password or a token.
"""

import hashlib
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from example.logging_config import get_logger

log = get_logger("example.auth")

REDIS_TIMEOUT_SECONDS = 2.0
# The limit's namespaces in the storage (Redis keys start with them).
CLIENTS = "login"
ACCOUNTS = "login-account"
# The longest account name a log line holds (an e-mail address has at most 320 characters).
MAX_ACCOUNT_LOGGED = 320


def _account_key(account: str) -> str:
    # Fixed-length keys, whatever was typed as the e-mail address.
    return hashlib.sha256(account.encode()).hexdigest()


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

    @contextmanager
    def _storage(self) -> Iterator[None]:
        """Raises ConnectionError (answered with a 503) when Redis does not answer."""
        try:
            yield
        except self._storage_error as error:
            msg = "the login rate limit's Redis does not answer"
            raise ConnectionError(msg) from error

    def hit(self, client: str) -> bool:
        """Count one attempt from `client`; False once it is over the limit."""
        with self._storage():
            admitted: bool = self._limiter.hit(self._item, CLIENTS, client)
        return admitted

    def retry_after(self, client: str) -> int:
        """Whole seconds until `client` may try again."""
        return self._seconds_left(CLIENTS, client)

    def admit(self, client: str, via: str) -> int | None:
        """Count one attempt from `client`: None, or (over the limit) the seconds to wait."""
        if self.hit(client):
            return None
        log.warning("login_failed", reason="rate_limited", client=client, via=via)
        return self.retry_after(client)

    def admit_account(self, account: str, client: str, via: str) -> int | None:
        """None, or the seconds to wait when `account` has used up its failed attempts."""
        key = _account_key(account)
        with self._storage():
            admitted: bool = self._limiter.test(self._item, ACCOUNTS, key)
        if admitted:
            return None
        log.warning(
            "login_failed", reason="rate_limited", account=_logged(account), client=client, via=via
        )
        return self._seconds_left(ACCOUNTS, key)

    def failed(self, account: str, client: str, via: str) -> None:
        """A wrong e-mail address or password (or an inactive user): counted and logged."""
        with self._storage():
            self._limiter.hit(self._item, ACCOUNTS, _account_key(account))
        log.warning(
            "login_failed",
            reason="invalid_credentials",
            account=_logged(account),
            client=client,
            via=via,
        )

    def succeeded(self, account: str, client: str, via: str, user_id: int) -> None:
        log.info("login_succeeded", account=account, user_id=user_id, client=client, via=via)

    def reset(self) -> None:
        """Forget every count (the tests share one app, and start each test with none)."""
        self._limiter.storage.reset()

    def _seconds_left(self, namespace: str, key: str) -> int:
        with self._storage():
            reset_time, _ = self._limiter.get_window_stats(self._item, namespace, key)
        return max(1, math.ceil(reset_time - time.time()))


def _logged(account: str) -> str:
    return account[:MAX_ACCOUNT_LOGGED]
