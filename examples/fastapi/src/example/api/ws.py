"""WS /api/v1/ws/items: every item created, updated or deleted, as it happens.

A public stream: it takes no credentials (a token in a URL would end up in logs). Each
connection forwards the events its Subscription queues (events.py does the fan-out); a worker
process holds at most WS_MAX_CONNECTIONS of them and closes the next with 1013.
"""

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Request, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from example.events import MAX_PENDING_EVENTS, EventHub, EventKind

TOO_MANY_CONNECTIONS = "Too many connections; try again later"

router = APIRouter(tags=["items"])


class Subscription:
    """One client's queue of pending events, on the event loop; filled from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = MAX_PENDING_EVENTS) -> None:
        self._loop = loop
        # One slot more than the events: room for the end-of-stream marker.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize + 1)
        self._maxsize = maxsize
        self.dropped = False

    def offer(self, message: str) -> bool:
        if self.dropped:
            return False
        # The hub may call from the Redis listener's thread: the queue is the loop's.
        self._loop.call_soon_threadsafe(self._put, message)
        return True

    def _put(self, message: str) -> None:
        if self.dropped:
            return
        if self._queue.qsize() >= self._maxsize:
            self.dropped = True
            self._queue.put_nowait(None)
            return
        self._queue.put_nowait(message)

    async def get(self) -> str | None:
        """The next event, or None once the client has fallen too far behind."""
        return await self._queue.get()


def get_hub(app: FastAPI) -> EventHub:
    hub: EventHub = app.state.events
    return hub


async def publish(request: Request, kind: EventKind, item: dict[str, Any]) -> None:
    """Tell every connected client, in every worker process, about a committed change."""
    hub = get_hub(request.app)
    if request.app.state.settings.redis_url:
        # A network call to Redis: keep it off the event loop.
        await run_in_threadpool(hub.publish, kind, item)
    else:
        # Only this process's clients: no I/O, not worth a trip to a worker thread.
        hub.publish(kind, item)


@router.websocket("/ws/items")
async def item_events(websocket: WebSocket) -> None:
    """Send each event as a JSON text message, unless this worker is full (close 1013)."""
    hub = get_hub(websocket.app)
    subscription = Subscription(asyncio.get_running_loop())
    # Before the handshake: a client that sees its connection open misses no event.
    admitted = hub.subscribe(subscription, limit=websocket.app.state.settings.ws_max_connections)
    try:
        # Accepted even when full: a close before the handshake would be an HTTP 403 instead.
        await websocket.accept()
        if not admitted:
            await websocket.close(status.WS_1013_TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS)
            return
        await _forward_until_disconnect(websocket, subscription)
    except* WebSocketDisconnect:
        pass  # the client went away mid-send; nothing is left to do for it
    finally:
        hub.unsubscribe(subscription)


async def _forward_until_disconnect(websocket: WebSocket, subscription: Subscription) -> None:
    async with asyncio.TaskGroup() as group:
        forwarding = group.create_task(_forward(websocket, subscription))
        # Clients have nothing to say here; reading is how their disconnect is noticed.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
        forwarding.cancel()


async def _forward(websocket: WebSocket, subscription: Subscription) -> None:
    while (message := await subscription.get()) is not None:
        await websocket.send_text(message)
    await websocket.close(status.WS_1013_TRY_AGAIN_LATER, "Too many pending events; reconnect")
