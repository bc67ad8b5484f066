"""WS /api/v1/ws/items: every item created, updated or deleted, as it happens.

Each connection forwards the events its Subscription queues (events.py does the fan-out).
"""

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Request, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from example.events import MAX_PENDING_EVENTS, EventHub, EventKind
from example.models import MAX_ID, User
from example.security import decode_access_token

INVALID_CREDENTIALS = "Could not validate credentials"

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
async def item_events(websocket: WebSocket, token: str | None = None) -> None:
    """Send each event as a JSON text message; `?token=` must be valid if given."""
    hub = get_hub(websocket.app)
    subscription = Subscription(asyncio.get_running_loop())
    # Before the handshake: a client that sees its connection open misses no event.
    hub.subscribe(subscription)
    try:
        await websocket.accept()
        if token is not None and not await _token_is_valid(websocket, token):
            await websocket.close(status.WS_1008_POLICY_VIOLATION, INVALID_CREDENTIALS)
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


async def _token_is_valid(websocket: WebSocket, token: str) -> bool:
    """The token names an active user (the same checks as the bearer-token endpoints)."""
    claims = decode_access_token(token, websocket.app.state.settings.secret_key)
    if claims is None or not 1 <= claims.user_id <= MAX_ID:
        return False
    async with websocket.app.state.sessionmaker() as session:
        user = await session.get(User, claims.user_id)
    return user is not None and user.accepts_token(claims.issued_at)
