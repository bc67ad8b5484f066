"""Item events for the WebSocket clients of /api/v1/ws/items, fanned out to every one of them.

The framework glue (api/ws.py) registers one Subscriber per connected client: a bounded
queue that the client's connection drains. `EventHub.publish()` hands an event to every
subscriber of this process or, when REDIS_URL is set, publishes it on a Redis channel that a
listener thread in every worker process relays to its own subscribers, so that a client sees
every change whichever worker process holds its connection.

redis-py is imported only when there is a Redis to talk to: without REDIS_URL, importing
the app does not load it.
"""

import json
import threading
from typing import TYPE_CHECKING, Any, Literal, Protocol

from example.logging_config import get_logger

if TYPE_CHECKING:
    from redis import Redis
    from redis.client import PubSub, PubSubWorkerThread

EventKind = Literal["created", "updated", "deleted"]

# Events a client may fall behind by before it is dropped (see Subscriber.offer).
MAX_PENDING_EVENTS = 100
# How long the listener waits for a message before it checks whether it should stop.
LISTEN_TIMEOUT_SECONDS = 1.0
# A pause after a lost Redis connection, so that a Redis outage is not a busy loop.
RECONNECT_DELAY_SECONDS = 1.0

log = get_logger("example.events")


class Subscriber(Protocol):
    def offer(self, message: str) -> bool:
        """Queue `message` for the client without blocking.

        False when the client cannot take it (it is too far behind or gone): the hub then
        drops the subscriber, and its connection ends instead of silently missing events.
        """
        ...


def item_event(kind: EventKind, item: dict[str, Any]) -> str:
    """The message every client receives: the item as the REST API returns it, or its id."""
    return json.dumps({"event": kind, "item": item})


class EventHub:
    """This process's subscribers, and the Redis channel shared with the other processes."""

    def __init__(
        self,
        redis: "Redis | None" = None,
        *,
        listen_timeout: float = LISTEN_TIMEOUT_SECONDS,
        reconnect_delay: float = RECONNECT_DELAY_SECONDS,
    ) -> None:
        self._redis = redis
        self._listen_timeout = listen_timeout
        self._reconnect_delay = reconnect_delay
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._pubsub: PubSub | None = None
        self._listener: PubSubWorkerThread | None = None
        # Retries the subscription while Redis does not answer (see start).
        self._connector: threading.Thread | None = None
        # Set by stop(): a listener pausing after a Redis error stops at once.
        self._stopping = threading.Event()
        # Pub/sub ignores Redis database numbers; naming the channel after the database keeps
        # deployments that share a Redis server on different databases apart, as their keys are.
        database = redis.connection_pool.connection_kwargs.get("db", 0) if redis else 0
        self.channel = f"example:db{database}:item-events"

    @classmethod
    def from_url(cls, redis_url: str | None) -> "EventHub":
        """A hub for REDIS_URL: fan-out through Redis, or within this process when unset."""
        if not redis_url:
            return cls(None)
        from redis import Redis

        return cls(Redis.from_url(redis_url))

    def start(self) -> None:
        """Listen on the Redis channel (a daemon thread); nothing to do without Redis.

        A Redis that does not answer at start does not stop the app from serving: the hub
        then delivers within this process only, and a thread keeps trying to subscribe."""
        if self._redis is None or self._listener is not None or self._connector is not None:
            return
        self._stopping.clear()
        if not self._listen():
            self._connector = threading.Thread(
                target=self._listen_when_back, name="event-hub-connect", daemon=True
            )
            self._connector.start()

    def _listen(self) -> bool:
        """Subscribe and start the listener thread; False (logged) if Redis does not answer."""
        from redis import RedisError  # loaded already: self._redis is a redis-py client

        if self._redis is None:
            return False
        # redis-py leaves pubsub() unannotated.
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            # Subscribed before the listener starts: no event published once it runs is missed.
            pubsub.subscribe(**{self.channel: self._relay})
        except RedisError as error:
            pubsub.close()
            log.warning("event_listener_error", error=repr(error))
            return False
        self._pubsub = pubsub
        self._listener = pubsub.run_in_thread(
            sleep_time=self._listen_timeout,
            daemon=True,
            exception_handler=self._log_and_pause,
        )
        return True

    def _listen_when_back(self) -> None:
        while not self._stopping.wait(self._reconnect_delay):
            if self._listen():
                return

    def stop(self) -> None:
        """Stop listening and close the Redis connections."""
        self._stopping.set()
        if self._connector is not None:
            self._connector.join(timeout=self._reconnect_delay * 5)
            self._connector = None
        if self._listener is not None:
            self._listener.stop()
            self._listener.join(timeout=self._listen_timeout * 5)
            self._listener = None
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None
        if self._redis is not None:
            self._redis.close()

    def _log_and_pause(
        self, error: BaseException, _pubsub: "PubSub", _thread: "PubSubWorkerThread"
    ) -> None:
        # redis-py reconnects (and subscribes again) on the listener's next read.
        log.warning("event_listener_error", error=repr(error))
        self._stopping.wait(self._reconnect_delay)

    def subscribe(self, subscriber: Subscriber, *, limit: int | None = None) -> bool:
        """Add `subscriber`, unless this process has `limit` of them already (then False)."""
        with self._lock:
            if limit is not None and len(self._subscribers) >= limit:
                return False
            self._subscribers.add(subscriber)
            return True

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: EventKind, item: dict[str, Any]) -> None:
        """Send an event to every client of every worker process.

        Called after the change is committed: a Redis failure is logged, never raised, so
        that the request that made the change still succeeds, and the event then reaches the
        clients of this process only.
        """
        message = item_event(kind, item)
        if self._redis is None:
            self.deliver(message)
            return
        from redis import RedisError  # loaded already: self._redis is a redis-py client

        try:
            self._redis.publish(self.channel, message)
        except RedisError:
            # Degraded, not lost: this process's own clients still hear of it.
            log.exception("event_publish_failed", channel=self.channel, kind=kind)
            self.deliver(message)

    def deliver(self, message: str) -> None:
        """Hand `message` to each subscriber of this process; drop those that cannot take it."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                accepted = subscriber.offer(message)
            except Exception:  # a broken client must not keep the event from the others
                log.exception("event_delivery_failed")
                accepted = False
            if not accepted:
                self.unsubscribe(subscriber)

    def _relay(self, message: dict[str, Any]) -> None:
        data = message["data"]
        self.deliver(data.decode() if isinstance(data, bytes) else str(data))
