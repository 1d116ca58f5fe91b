"""The batched, ordered event publisher on a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from agenthost.redis import sync_redis
from apps.runs.engine.publisher import HIGH_WATER, EventPublisher, stream_append
from apps.runs.events import events_key


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.Redis.from_url(settings.REDIS_URL)
    yield redis
    await redis.aclose()


def _entries(run_id: uuid.UUID) -> list[tuple[bytes, bytes]]:
    return [(f[b"e"], f[b"d"]) for _, f in sync_redis().xrange(events_key(run_id))]


async def test_a_burst_arrives_whole_and_in_order(client: aioredis.Redis) -> None:
    run_id = uuid.uuid4()
    publisher = EventPublisher(client, run_id)
    publisher.start()
    for i in range(10_000):
        publisher.publish("custom", b'{"i":%d}' % i)
    await publisher.aclose()
    entries = _entries(run_id)
    assert entries == [(b"custom", b'{"i":%d}' % i) for i in range(10_000)]
    ttl = sync_redis().ttl(events_key(run_id))
    assert 0 < ttl <= settings.AGENTHOST_STREAM_TTL_SECONDS


async def test_a_lone_event_goes_out_at_once(client: aioredis.Redis) -> None:
    run_id = uuid.uuid4()
    publisher = EventPublisher(client, run_id)
    publisher.start()
    publisher.publish("metadata", b"{}")
    reader = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        reply = await reader.xread({events_key(run_id): "0-0"}, block=1000)
    finally:
        await reader.aclose()
    assert reply[0][1][0][1] == {b"e": b"metadata", b"d": b"{}"}
    await publisher.aclose()


async def test_streams_are_trimmed_to_about_maxlen(client: aioredis.Redis, settings: Any) -> None:
    settings.AGENTHOST_STREAM_MAXLEN = 100
    run_id = uuid.uuid4()
    publisher = EventPublisher(client, run_id)
    publisher.start()
    for i in range(5000):
        publisher.publish("custom", b"%d" % i)
    await publisher.aclose()
    kept = _entries(run_id)
    assert 100 <= len(kept) < 5000
    assert kept[-1] == (b"custom", b"4999")


async def test_a_fast_producer_waits_for_room(client: aioredis.Redis) -> None:
    run_id = uuid.uuid4()
    publisher = EventPublisher(client, run_id)
    publisher.start()
    for i in range(3 * HIGH_WATER):
        publisher.publish("custom", b"%d" % i)
    await publisher.wait_for_room()
    assert publisher.backlog <= HIGH_WATER
    await publisher.aclose()
    assert len(_entries(run_id)) == 3 * HIGH_WATER


async def test_a_failed_flush_surfaces() -> None:
    unreachable = aioredis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    publisher = EventPublisher(unreachable, uuid.uuid4())
    publisher.start()
    publisher.publish("custom", b"1")
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(publisher.aclose(), 5)
    await unreachable.aclose()


def test_stream_append_from_sync_code() -> None:
    run_id = uuid.uuid4()
    stream_append(run_id, [("error", b'{"error":"E"}'), ("end", b"{}")])
    assert _entries(run_id) == [(b"error", b'{"error":"E"}'), (b"end", b"{}")]
