"""The stream hub against real Redis: one reader, exact fan-out, catch-up, wake-ups."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from agenthost.redis import async_redis, new_async_redis
from apps.runs.events import END_EVENT, StreamEvent
from apps.runs.hub import GAP_EVENT, StreamHub, Subscription, normalize_cursor

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def hub() -> AsyncIterator[StreamHub]:
    hub = StreamHub(block_ms=5_000, socket_timeout=10.0)
    yield hub
    await hub.aclose()
    await async_redis().aclose()


async def redis_clients() -> list[dict[str, str]]:
    """CLIENT LIST for this test run's Redis database (others may share the server)."""
    monitor = new_async_redis()
    try:
        db = str(monitor.connection_pool.connection_kwargs.get("db", 0))
        lines = (await monitor.execute_command("CLIENT", "LIST")).decode().splitlines()
    finally:
        await monitor.aclose()
    clients = [dict(part.split("=", 1) for part in line.split() if "=" in part) for line in lines]
    return [client for client in clients if client.get("db") == db]


async def wait_for_blocked_reader(hub: StreamHub) -> None:
    """Until the hub's connection sits in XREAD BLOCK, and no other connection of this
    process does (unnamed ones count as ours; other processes' hubs are theirs)."""
    ours = f"agenthost-hub-{os.getpid()}-"

    async def blocked_readers() -> list[str]:
        return [
            client["name"]
            for client in await redis_clients()
            if client["cmd"] == "xread"
            and "b" in client["flags"]
            and (not client["name"] or client["name"].startswith(ours))
        ]

    # Polls Redis itself: there is no event to await for "a client is blocked".
    deadline = time.monotonic() + 5
    while not await blocked_readers() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert await blocked_readers() == [hub.client_name]


def new_key() -> str:
    return f"test:hub:{uuid.uuid4().hex}"


async def produce(key: str, n: int, *, end: bool = True, chunk: int = 500) -> None:
    """Append custom events {"i": k} in pipelined chunks, then `end`."""
    client = async_redis()
    for start in range(0, n, chunk):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(n, start + chunk)):
                pipe.xadd(key, {"e": "custom", "d": orjson.dumps({"i": i})})
            await pipe.execute()
        await asyncio.sleep(0)
    if end:
        await client.xadd(key, {"e": END_EVENT, "d": b'{"status":"success"}'})


async def collect(subscription: Subscription) -> list[StreamEvent]:
    received: list[StreamEvent] = []
    try:
        while not subscription.finished:
            batch = await subscription.next_batch(max_wait=10)
            assert batch is not None, "no event for 10 s"
            received.extend(batch)
    finally:
        await subscription.aclose()
    return received


def indexes(events: list[StreamEvent]) -> list[int]:
    return [orjson.loads(event.data)["i"] for event in events if event.event == "custom"]


async def test_many_subscribers_share_one_blocking_connection(hub: StreamHub) -> None:
    keys = [new_key() for _ in range(10)]
    subscriptions = [hub.subscribe(key=key) for key in keys for _ in range(5)]
    for subscription in subscriptions:  # backfill (nothing yet) and register
        assert await subscription.next_batch(max_wait=0) is None

    await wait_for_blocked_reader(hub)
    assert hub.watched_keys == set(keys)

    collectors = [asyncio.create_task(collect(sub)) for sub in subscriptions]
    await asyncio.gather(*(produce(key, 300) for key in keys))
    for events in await asyncio.gather(*collectors):
        assert indexes(events) == list(range(300))
        assert events[-1].event == END_EVENT
    assert hub.watched_keys == set()


async def test_late_subscribers_mid_burst_get_everything_once(hub: StreamHub) -> None:
    key = new_key()
    early = asyncio.create_task(collect(hub.subscribe(key=key)))
    producer = asyncio.create_task(produce(key, 20_000, chunk=200))
    late: list[asyncio.Task[list[StreamEvent]]] = []
    for _ in range(8):
        await asyncio.sleep(0.02)
        late.append(asyncio.create_task(collect(hub.subscribe(key=key))))
    await producer
    for events in [await early, *[await task for task in late]]:
        assert indexes(events) == list(range(20_000))
        ids = [event.id for event in events]
        assert len(ids) == len(set(ids))


async def test_resume_after_an_id_skips_exactly_what_was_seen(hub: StreamHub) -> None:
    key = new_key()
    await produce(key, 100, end=False)
    first = hub.subscribe(key=key)
    seen = (await first.next_batch(max_wait=5))[:40]
    await first.aclose()
    resumed = asyncio.create_task(collect(hub.subscribe(key=key, after=seen[-1].id)))
    await produce(key, 0)
    assert indexes(await resumed) == list(range(40, 100))


async def test_a_slow_subscriber_is_dropped_and_catches_up(hub: StreamHub) -> None:
    hub.queue_batches = 2
    key = new_key()
    slow = hub.subscribe(key=key)
    fast = asyncio.create_task(collect(hub.subscribe(key=key)))
    assert await slow.next_batch(max_wait=0.2) is None  # registered, nothing yet
    await produce(key, 5_000, chunk=50)
    await fast
    received = await collect(slow)
    assert indexes(received) == list(range(5_000))


async def test_a_new_subscriber_wakes_the_blocked_reader(hub: StreamHub) -> None:
    idle_key, key = new_key(), new_key()
    parked = hub.subscribe(key=idle_key)
    assert await parked.next_batch(max_wait=0) is None
    await wait_for_blocked_reader(hub)  # inside a 5 s XREAD BLOCK from now on
    await async_redis().xadd(key, {"e": "custom", "d": b'{"i":0}'})
    subscription = hub.subscribe(key=key)
    assert indexes(await subscription.next_batch(max_wait=5)) == [0]
    started = time.monotonic()
    await async_redis().xadd(key, {"e": "custom", "d": b'{"i":1}'})
    assert indexes(await subscription.next_batch(max_wait=5)) == [1]
    assert time.monotonic() - started < 0.5
    await subscription.aclose()
    await parked.aclose()


async def test_the_reader_survives_a_killed_connection(hub: StreamHub) -> None:
    key = new_key()
    subscription = hub.subscribe(key=key)
    assert await subscription.next_batch(max_wait=0) is None
    await produce(key, 50, end=False)
    received: list[StreamEvent] = []
    while len(received) < 50:
        batch = await subscription.next_batch(max_wait=5)
        assert batch is not None
        received.extend(batch)
    (reader,) = [c for c in await redis_clients() if c["name"] == hub.client_name]
    await async_redis().execute_command("CLIENT", "KILL", "ID", reader["id"])
    await produce(key, 50)
    received.extend(await collect(subscription))
    assert indexes(received) == list(range(50)) * 2


async def test_a_finished_stream_and_a_cursor_past_its_end(hub: StreamHub) -> None:
    key = new_key()
    await produce(key, 3)
    everything = await collect(hub.subscribe(key=key, after="-1"))
    assert [event.event for event in everything] == ["custom"] * 3 + [END_EVENT]
    assert await collect(hub.subscribe(key=key, after=everything[-1].id)) == []
    assert await collect(hub.subscribe(key=key, after="99999999999999-0")) == []


async def test_trimmed_entries_are_announced_not_skipped_silently(hub: StreamHub) -> None:
    key = new_key()
    await produce(key, 200, end=False)
    await async_redis().xtrim(key, maxlen=50, approximate=False)
    await produce(key, 0)
    events = await collect(hub.subscribe(key=key))
    assert events[0].event == GAP_EVENT
    assert orjson.loads(events[0].data)["reason"] == "trimmed"
    assert indexes(events) == list(range(150, 200))


@pytest.mark.parametrize(
    ("raw", "cursor"),
    [
        (None, "0-0"),
        ("-1", "0-0"),
        ("0", "0-0"),
        ("garbage", "0-0"),
        ("12", "12-0"),
        ("12-3", "12-3"),
        ("1-2-3", "0-0"),
        (str(2**64), "0-0"),
    ],
)
async def test_cursor_normalisation(raw: str | None, cursor: str) -> None:
    assert normalize_cursor(raw) == cursor
