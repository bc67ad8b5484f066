"""WS /api/v1/ws/items (flask-sock): every item created, updated or deleted, as it happens.

A public stream: it takes no credentials (a token in a URL would end up in logs). Each
connection holds one server thread of its own, apart from those for plain requests (see
server.py), that forwards the events its Subscription queues (events.py does the fan-out);
a worker process holds at most WS_MAX_CONNECTIONS of them and closes the next with 1013.
"""

import queue
import selectors
from typing import Any

from flask import Blueprint, Flask, current_app, g
from flask_sock import Sock

from example.deps import get_settings
from example.events import MAX_PENDING_EVENTS, EventHub, EventKind
from example.settings import Settings

PATH = "/api/v1/ws/items"
EXTENSION_KEY = "example.events"
# WebSocket close code (RFC 6455) for a full worker and for a client too far behind.
TRY_AGAIN_LATER = 1013
TOO_MANY_CONNECTIONS = "Too many connections; try again later"
# How often an idle connection checks whether its client is still there (the app's
# WS_POLL_SECONDS setting overrides it; the tests use a shorter one).
POLL_SECONDS = 1.0


class ReaderSelector(selectors.DefaultSelector):
    """The selector simple_websocket's reader thread waits on (flask-sock passes it on).

    The reader registers the connection's socket from its own thread, which may run only
    once the handler has returned and gunicorn has closed the socket (a refused connection
    closes at once). Closed before registration, the socket fails with ValueError, which
    simple_websocket takes as "gone"; closed between the lookup of its number and epoll_ctl,
    it fails with OSError (EBADF), which would kill the thread with a traceback. Both mean
    the same: this turns the second into the first.
    """

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        try:
            return super().register(fileobj, events, data)
        except OSError as error:
            raise ValueError(f"the socket closed while it was registered: {error}") from error


SERVER_OPTIONS = {
    # Pings find clients that vanished without closing (uvicorn pings every 20 s too).
    "ping_interval": 20,
    # Clients have nothing to say on this endpoint.
    "max_message_size": 4096,
    "selector_class": ReaderSelector,
}

blueprint = Blueprint("ws", __name__)
sock = Sock()


class Subscription:
    """One client's queue of pending events, filled by the hub from any thread."""

    def __init__(self, maxsize: int = MAX_PENDING_EVENTS) -> None:
        self._queue: queue.Queue[str] = queue.Queue(maxsize)
        self.dropped = False

    def offer(self, message: str) -> bool:
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped = True
            return False
        return True

    def get(self, timeout: float) -> str | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


def init_websocket(app: Flask, settings: Settings) -> EventHub:
    """Give the app its event hub (listening on Redis when REDIS_URL is set) and the route."""
    hub = EventHub.from_url(settings.redis_url)
    hub.start()
    app.extensions[EXTENSION_KEY] = hub
    app.config["SOCK_SERVER_OPTIONS"] = SERVER_OPTIONS
    app.register_blueprint(blueprint)
    return hub


def get_hub(app: Flask | None = None) -> EventHub:
    hub: EventHub = (app or current_app).extensions[EXTENSION_KEY]
    return hub


def publish(kind: EventKind, item: dict[str, Any]) -> None:
    """Tell every connected client, in every worker process, about a committed change."""
    get_hub().publish(kind, item)


@blueprint.before_request
def _subscribe() -> None:
    # Before flask-sock's handshake: a client that sees its connection open misses no event.
    subscription = Subscription()
    if get_hub().subscribe(subscription, limit=get_settings().ws_max_connections):
        g.subscription = subscription


@blueprint.teardown_request
def _unsubscribe(_error: BaseException | None = None) -> None:
    subscription: Subscription | None = g.pop("subscription", None)
    if subscription is not None:
        get_hub().unsubscribe(subscription)


def item_events(ws: Any) -> None:
    """Send each event as a JSON text message, unless this worker is full (close 1013)."""
    subscription: Subscription | None = g.get("subscription")
    if subscription is None:
        ws.close(TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS)
        return
    poll_seconds = float(current_app.config.get("WS_POLL_SECONDS", POLL_SECONDS))
    while ws.connected and not subscription.dropped:
        message = subscription.get(poll_seconds)
        if message is not None:
            try:
                ws.send(message)
            except OSError:  # the client vanished mid-send; flask-sock closes the rest
                return
        # Whatever the client sends is ignored, but must not pile up.
        while ws.receive(timeout=0) is not None:
            pass
    if subscription.dropped:
        ws.close(TRY_AGAIN_LATER, "Too many pending events; reconnect")


# A call rather than a decorator: flask-sock is untyped, and the view stays type-checked.
sock.route(PATH, bp=blueprint)(item_events)
