"""Redis clients. One async client per event loop, one sync client per process."""

from __future__ import annotations

import asyncio
import weakref
from functools import cache

import redis
import redis.asyncio as aioredis
from django.conf import settings

_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def async_redis() -> aioredis.Redis:
    """The shared async client of the running event loop (non-blocking commands only)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)
        _async_clients[loop] = client
    return client


def new_async_redis(
    *, socket_timeout: float | None = None, client_name: str | None = None
) -> aioredis.Redis:
    """A private async client, for a connection that blocks (XREAD BLOCK).

    `client_name` shows in ``CLIENT LIST``, so operators can tell the blocking readers.
    """
    return aioredis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=socket_timeout,
        single_connection_client=True,
        client_name=client_name,
    )


@cache
def sync_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)
