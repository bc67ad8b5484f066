"""What `/health/ready` checks beyond the database, and the answer both flavors give.

Each check is bounded by READY_TIMEOUT_SECONDS, so that a probe gets its answer in time
however the service it asks is down (refusing, or silently dropping packets)."""

READY_TIMEOUT_SECONDS = 2.0


def redis_answers(redis_url: str, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
    """True if the Redis at `redis_url` answers PING within `timeout` (a connection of its own:
    the event hub's listener keeps its connection busy). Blocking: call it from a thread in
    async code."""
    from redis import Redis, RedisError

    client = Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def readiness(database: bool, redis: bool | None) -> tuple[dict[str, str], int]:
    """The body and status code of `/health/ready`: "redis" appears only when REDIS_URL is set
    (`redis` is None otherwise); 503 when anything checked is down."""
    checks = {"database": database} if redis is None else {"database": database, "redis": redis}
    body = {name: "ok" if up else "error" for name, up in checks.items()}
    ready = all(checks.values())
    return {"status": "ok" if ready else "error", **body}, 200 if ready else 503
