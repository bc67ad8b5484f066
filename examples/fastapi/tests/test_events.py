"""The event hub: fan-out to this process's clients, and across processes through Redis."""

import json
import queue
import time
from collections.abc import Iterator

import fakeredis
import pytest

from example.events import EventHub

ITEM = {"id": 7, "name": "Lamp"}
TIMEOUT_SECONDS = 10.0


class Recorder:
    """A subscriber that keeps what it is offered (thread-safe: the listener thread offers)."""

    def __init__(self, accept: bool = True) -> None:
        self.messages: queue.Queue[str] = queue.Queue()
        self.accept = accept

    def offer(self, message: str) -> bool:
        self.messages.put(message)
        return self.accept

    def next(self) -> object:
        return json.loads(self.messages.get(timeout=TIMEOUT_SECONDS))


class Broken:
    def offer(self, message: str) -> bool:
        raise ConnectionResetError("the client's socket is gone")


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def worker_hubs(redis_server: fakeredis.FakeServer) -> Iterator[list[EventHub]]:
    """Two hubs on one Redis, as in two worker processes."""
    # A short listen timeout: stopping a hub waits for its listener's current wait to end.
    hubs = [
        EventHub(fakeredis.FakeRedis(server=redis_server, db=3), listen_timeout=0.01)
        for _ in range(2)
    ]
    for hub in hubs:
        hub.start()
    yield hubs
    for hub in hubs:
        hub.stop()


def test_without_redis_an_event_reaches_every_subscriber_of_the_process() -> None:
    hub = EventHub()
    first, second = Recorder(), Recorder()
    hub.subscribe(first)
    hub.subscribe(second)

    hub.publish("created", ITEM)

    assert first.next() == second.next() == {"event": "created", "item": ITEM}


def test_a_broken_or_lagging_subscriber_is_dropped_and_the_others_still_hear() -> None:
    hub = EventHub()
    healthy, lagging = Recorder(), Recorder(accept=False)
    for subscriber in (Broken(), lagging, healthy):
        hub.subscribe(subscriber)

    hub.publish("updated", ITEM)
    hub.publish("deleted", {"id": 7})

    assert healthy.next() == {"event": "updated", "item": ITEM}
    assert healthy.next() == {"event": "deleted", "item": {"id": 7}}
    assert lagging.messages.qsize() == 1  # offered once, then dropped
    assert hub.subscriber_count == 1


def test_an_unsubscribed_client_hears_nothing_more() -> None:
    hub = EventHub()
    leaving = Recorder()
    hub.subscribe(leaving)
    hub.unsubscribe(leaving)

    hub.publish("created", ITEM)

    assert leaving.messages.empty()
    assert hub.subscriber_count == 0


def test_a_full_hub_refuses_a_subscriber_until_one_leaves() -> None:
    hub = EventHub()
    first, second, third = Recorder(), Recorder(), Recorder()

    accepted = [hub.subscribe(subscriber, limit=2) for subscriber in (first, second, third)]
    hub.unsubscribe(first)
    later = hub.subscribe(third, limit=2)
    hub.publish("created", ITEM)

    assert accepted == [True, True, False]
    assert later is True
    assert second.next() == third.next() == {"event": "created", "item": ITEM}
    assert first.messages.empty()


def test_with_redis_an_event_reaches_the_subscribers_of_every_process(
    worker_hubs: list[EventHub],
) -> None:
    publisher, listener = worker_hubs
    here, there = Recorder(), Recorder()
    publisher.subscribe(here)
    listener.subscribe(there)

    publisher.publish("created", ITEM)

    assert here.next() == there.next() == {"event": "created", "item": ITEM}


def test_the_channel_is_named_after_the_package_and_the_redis_database(
    worker_hubs: list[EventHub],
) -> None:
    assert worker_hubs[0].channel == "example:db3:item-events"
    assert EventHub().channel == "example:db0:item-events"


def test_a_redis_outage_keeps_the_event_in_its_process_and_fails_no_request(
    worker_hubs: list[EventHub], redis_server: fakeredis.FakeServer
) -> None:
    publisher, listener = worker_hubs
    here, there = Recorder(), Recorder()
    publisher.subscribe(here)
    listener.subscribe(there)
    redis_server.connected = False

    publisher.publish("created", ITEM)  # logged, not raised: the change itself is committed

    assert here.next() == {"event": "created", "item": ITEM}  # delivered in its own process
    assert there.messages.empty()
    assert listener.subscriber_count == 1


def test_a_hub_started_while_redis_is_down_serves_and_subscribes_when_it_is_back(
    redis_server: fakeredis.FakeServer,
) -> None:
    redis_server.connected = False
    hubs = [
        EventHub(
            fakeredis.FakeRedis(server=redis_server), listen_timeout=0.01, reconnect_delay=0.02
        )
        for _ in range(2)
    ]
    for hub in hubs:
        hub.start()  # no exception: the app starts and serves without Redis
    try:
        redis_server.connected = True
        publisher, listener = hubs
        there = Recorder()
        listener.subscribe(there)
        observer = fakeredis.FakeRedis(server=redis_server)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        # both hubs subscribe once Redis answers
        while listeners(observer, publisher.channel) < 2:
            assert time.monotonic() < deadline, "the hubs never subscribed"
            time.sleep(0.01)
        publisher.publish("updated", ITEM)
        assert there.next() == {"event": "updated", "item": ITEM}
    finally:
        for hub in hubs:
            hub.stop()


def listeners(client: fakeredis.FakeRedis, channel: str) -> int:
    counts: list[tuple[bytes, int]] = client.pubsub_numsub(channel)  # type: ignore[assignment]
    return counts[0][1]


def test_from_url_uses_redis_only_when_a_url_is_given() -> None:
    hub = EventHub.from_url("redis://localhost:6379/5")

    assert hub.channel.endswith(":db5:item-events")
    assert EventHub.from_url(None).channel.endswith(":db0:item-events")
