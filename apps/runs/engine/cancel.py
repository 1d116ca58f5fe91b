"""Watching for a cancel request while a run executes.

``run_cancel`` records the action in the run's ``cancel_key``; the watcher polls it
(one GET per run every ``POLL_SECONDS``), and the executor then cancels the graph's
asyncio task, which interrupts the graph at whatever it awaits, even a long silent
step. Polling keeps the worker free of a subscriber connection per run, and bounds the
delay to a fraction of the one second a cancel may take.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from agenthost.redis import sync_redis
from apps.runs.events import cancel_key

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
# A cancel request outlives any run that could still be waiting for it.
REQUEST_TTL_SECONDS = 24 * 3600
ACTIONS = ("interrupt", "rollback")


async def cancel_requested(client: AsyncRedis, run_id: UUID | str, stop: asyncio.Event) -> str:
    """Return the requested action ('interrupt' or 'rollback') once there is one.

    Returns "" once `stop` is set: on Python 3.11 redis-py's ``asyncio.wait_for`` may
    swallow a cancellation that lands as a command completes, so the watcher cannot
    count on being cancelled.
    """
    key = cancel_key(run_id)
    while not stop.is_set():
        try:
            action = await client.get(key)
        except RedisError:
            logger.warning("cannot read the cancel key of run %s; retrying", run_id)
            action = None
        if action:
            decoded = action.decode()
            return decoded if decoded in ACTIONS else "interrupt"
        await asyncio.sleep(POLL_SECONDS)
    return ""


def cancel_request(run_id: UUID | str, action: str) -> None:
    sync_redis().set(cancel_key(run_id), action, ex=REQUEST_TTL_SECONDS)


def cancel_request_clear(run_id: UUID | str) -> None:
    sync_redis().delete(cancel_key(run_id))
