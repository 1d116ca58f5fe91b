"""The per-process stream hub: one Redis reader fanning run events out to every client.

Why
---
A web process serves many SSE clients, each following one run's Redis stream. A
blocking ``XREAD`` per client would hold one Redis connection per client. Instead each
event loop has one ``StreamHub`` that owns ONE dedicated connection and loops::

    XREAD BLOCK <block_ms> COUNT <count> STREAMS <wake key> <watched keys> <cursors>

and fans what it reads out to bounded per-subscriber ``asyncio.Queue``s, one batch (a
list of events) per key per read. Non-blocking commands (backfill ``XRANGE``, the wake
``XADD``) go through a pooled client the hub also owns. Both leave stream replies
unparsed by redis-py, which would otherwise build a dict per entry.

Exactly once
------------
A ``Subscription`` that starts strictly after id A:

1. backfills with ``XRANGE (A +`` in pages, on the pooled client, up to the current end
   of the stream; L is the last id it got (A if none);
2. registers with the hub at L. The hub applies registrations on its own task between
   two reads, so its cursor S for that key cannot move meanwhile:
   - key not watched yet: it is watched from L;
   - S > L: the gap (L, S] is fetched with ``XRANGE`` and queued before live batches;
   - S < L: the hub will still read (S, L], which the subscriber drops;
3. then takes live batches from its queue.

A registration wakes a blocked ``XREAD`` by adding an entry to the hub's private wake
stream (read in every ``XREAD`` with its own cursor, so a wake sent just before the
read starts is not missed): a new subscriber never waits a whole block period.

Backpressure: a subscriber whose queue is full is dropped by the hub, which never waits
for anyone. The subscriber drains what it has, backfills again from its last delivered
id and registers again. Keys leave the watch set with their last subscriber.

Failures: the block time stays below the socket timeout, so a dead connection raises
instead of hanging; the hub then reconnects and reads on from its cursors, losing
nothing. Backfill checks the stream's ``max-deleted-entry-id``: when entries after the
cursor were trimmed away the subscription says so with one ``gap`` event (no id) before
what remains, never a silent partial replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import RedisError, ResponseError

from agenthost.redis import new_async_redis
from apps.runs.events import (
    END_EVENT,
    FIELD_DATA,
    FIELD_EVENT,
    StreamEvent,
    parse_stream_id,
)

logger = logging.getLogger(__name__)

# Sent (without an id) when events a client asked for are no longer anywhere.
GAP_EVENT = "gap"

START = "0-0"
# As a subscription's start: only what comes after the current last entry.
TAIL = "$"
_StreamId = tuple[int, int]


_MAX_PART = 2**64 - 1


def stream_id(value: str | bytes) -> _StreamId:
    """(ms, seq) of a Redis stream id; anything unparsable counts as the very start."""
    text = value.decode() if isinstance(value, bytes) else value
    parsed = parse_stream_id(text)
    if parsed is None or parsed[0] > _MAX_PART or parsed[1] > _MAX_PART:
        return (0, 0)
    return parsed


def normalize_cursor(value: str | None) -> str:
    """A resume cursor as a full stream id; absent, ``-1`` or garbage means the start."""
    ms, seq = stream_id(value or "")
    return f"{ms}-{seq}"


def to_event(entry: list[Any]) -> StreamEvent:
    """A stream entry as Redis sends it, ``[id, [field, value, ...]]``, as an event."""
    entry_id, fields = entry
    if len(fields) == 4 and fields[0] == FIELD_EVENT and fields[2] == FIELD_DATA:
        name, data = fields[1], fields[3]  # the order every publisher writes
    else:
        pairs = dict(zip(fields[::2], fields[1::2], strict=False))
        name, data = pairs.get(FIELD_EVENT, b""), pairs.get(FIELD_DATA, b"null")
    return StreamEvent(id=entry_id.decode(), event=name.decode(), data=data)


def _unparsed(response: Any, **options: Any) -> Any:
    return response


def unparsed_streams(client: aioredis.Redis) -> aioredis.Redis:
    """`client`, with its XRANGE and XREAD replies left as Redis sent them.

    redis-py turns every entry's fields into a dict; ``to_event`` reads the flat list
    directly, which saves most of the client-side cost of a replay.
    """
    for command in ("XRANGE", "XREAD"):
        client.set_response_callback(command, _unparsed)
    return client


def gap_event(*, after: str, resumes_at: str | None, reason: str) -> StreamEvent:
    data = {"after": after, "resumes_at": resumes_at, "reason": reason}
    return StreamEvent(id="", event=GAP_EVENT, data=orjson.dumps(data))


@dataclass(frozen=True)
class StreamInfo:
    """What ``XINFO STREAM`` says about a run's stream, or None when the key is gone."""

    first_id: str | None
    last_id: str | None
    last_event: str | None
    max_deleted_id: str
    removed: int

    def trimmed_after(self, cursor: str) -> bool:
        """Whether entries newer than `cursor` are gone from the stream.

        ``XDEL`` records the highest id it removed; ``MAXLEN`` trimming (which removes
        the oldest entries) only shows in the count, so entries went missing after
        `cursor` when any were removed and the oldest left is newer than `cursor`. That
        errs on the safe side when `cursor` is exactly the last trimmed entry.
        """
        after = stream_id(cursor)
        if stream_id(self.max_deleted_id) > after:
            return True
        return self.removed > 0 and stream_id(self.first_id or "") > after


async def stream_info(client: aioredis.Redis, key: str) -> StreamInfo | None:
    try:
        info: dict[str, Any] = await client.xinfo_stream(key)
    except ResponseError as exc:
        if "no such key" in str(exc).lower():
            return None
        raise
    first, last = info.get("first-entry"), info.get("last-entry")
    return StreamInfo(
        first_id=first[0].decode() if first else None,
        last_id=last[0].decode() if last else None,
        last_event=last[1].get(FIELD_EVENT, b"").decode() if last else None,
        max_deleted_id=(info.get("max-deleted-entry-id") or b"0-0").decode(),
        removed=int(info.get("entries-added", 0)) - int(info.get("length", 0)),
    )


@dataclass(eq=False)
class _Watch:
    cursor: str
    subscribers: set[Subscription] = field(default_factory=set)


class Subscription:
    """One consumer of one run stream, receiving every entry after `after` exactly once.

    `after` may be ``TAIL``: entries added from now on (the caller only wants ``end``).

    Call ``next_batch`` until ``finished`` (the ``end`` event was delivered, or had
    already been seen), then ``aclose`` (also when leaving early).
    """

    def __init__(self, hub: StreamHub, key: str, after: str) -> None:
        self.hub = hub
        self.key = key
        self.cursor = normalize_cursor(after)
        self._from_tail = after == TAIL
        self.finished = False
        self._queue: asyncio.Queue[list[StreamEvent]] = asyncio.Queue(hub.queue_batches)
        self._live = False
        self._dropped = False
        self._checked = False
        self._skip_through: _StreamId | None = None

    async def next_batch(self, max_wait: float | None = None) -> list[StreamEvent] | None:
        """The next events in order (never empty before the end, [] once finished), or
        None when `max_wait` seconds passed with nothing new.

        Only the wait for live events is bounded: a backfill page is always read whole,
        so no Redis command is ever cut off halfway.
        """
        while not self.finished:
            if self._live and self._dropped and self._queue.empty():
                self._resync()
            if not self._live:
                batch = await self._backfill_page()
            else:
                try:
                    async with asyncio.timeout(max_wait):
                        first = await self._queue.get()
                except TimeoutError:
                    return None
                batch = self._unseen(self._drain(first))
            batch = self._accept(batch)
            if batch:
                return batch
        return []

    async def aclose(self) -> None:
        self.finished = True
        self.hub._unregister(self)

    # -- the hub's side ------------------------------------------------------------

    def _offer(self, batch: list[StreamEvent]) -> bool:
        """Queue a batch from the hub; False (and dropped) when the queue is full."""
        try:
            self._queue.put_nowait(batch)
        except asyncio.QueueFull:
            self._dropped = True
            return False
        return True

    def _skip_until(self, last_id: str) -> None:
        self._skip_through = stream_id(last_id)

    # -- internals -----------------------------------------------------------------

    def _resync(self) -> None:
        """After being dropped: backfill from the last delivered id, then register again."""
        self._dropped = False
        self._live = False
        self._checked = False
        self._skip_through = None

    async def _backfill_page(self) -> list[StreamEvent]:
        client = self.hub.reads_client
        page = self.hub.backfill_page
        prefix: list[StreamEvent] = []
        if not self._checked:
            self._checked = True
            info = await stream_info(client, self.key)
            if self._from_tail:
                self._from_tail = False
                self.cursor = (info.last_id if info else None) or self.cursor
            if (
                info is not None
                and info.last_event == END_EVENT
                and stream_id(info.last_id or "") <= stream_id(self.cursor)
            ):
                # The client already has the end; nothing more will come.
                self.finished = True
                return []
            if info is not None and info.trimmed_after(self.cursor):
                prefix.append(
                    gap_event(after=self.cursor, resumes_at=info.first_id, reason="trimmed")
                )
        entries = await client.xrange(self.key, f"({self.cursor}", "+", count=page)
        batch = prefix + [to_event(entry) for entry in entries]
        if len(entries) < page and not (entries and batch[-1].event == END_EVENT):
            # Reached the current end of a run still going: live from here on.
            self._live = True
            await self.hub._register(self, batch[-1].id if entries else self.cursor)
        return batch

    def _drain(self, first: list[StreamEvent]) -> list[StreamEvent]:
        """Merge every batch already queued, so the writer sends them in one chunk."""
        if self._queue.empty():
            return first
        merged = list(first)
        while not self._queue.empty():
            merged.extend(self._queue.get_nowait())
        return merged

    def _unseen(self, batch: list[StreamEvent]) -> list[StreamEvent]:
        """Drop live entries the backfill already delivered (the hub was behind it).

        Only for batches from the hub: the backfill page that led to the registration
        may come back after the hub applied it, and is new to the consumer.
        """
        if self._skip_through is None:
            return batch
        kept = []
        for event in batch:
            if event.id and stream_id(event.id) <= self._skip_through:
                self.finished = self.finished or event.event == END_EVENT
            else:
                kept.append(event)
        if kept:
            self._skip_through = None
        return kept

    def _accept(self, batch: list[StreamEvent]) -> list[StreamEvent]:
        """Advance the cursor and stop after ``end``."""
        for index, event in enumerate(batch):
            if event.event == END_EVENT:
                batch = batch[: index + 1]
                self.finished = True
                break
        for event in reversed(batch):
            if event.id:
                self.cursor = event.id
                break
        if self.finished:
            self.hub._unregister(self)
        return batch


class StreamHub:
    """The one Redis reader of an event loop; see the module docstring."""

    def __init__(
        self,
        *,
        block_ms: int = 2_000,
        socket_timeout: float = 10.0,
        count: int = 1_000,
        queue_batches: int = 256,
        backfill_page: int = 2_000,
    ) -> None:
        if block_ms / 1000 >= socket_timeout:
            raise ValueError("the XREAD block time must stay below the socket timeout")
        self.block_ms = block_ms
        self.socket_timeout = socket_timeout
        self.count = count
        self.queue_batches = queue_batches
        self.backfill_page = backfill_page
        hub_id = uuid.uuid4().hex
        self.client_name = f"agenthost-hub-{os.getpid()}-{hub_id[:8]}"
        self.wake_key = f"ah:hub:{hub_id}:wake"
        self._wake_cursor = START
        self._wake_sent = False
        self._blocked = False
        self._closing = False
        self._watch: dict[str, _Watch] = {}
        self._pending: list[tuple[Subscription, str]] = []
        self._idle = asyncio.Event()
        self._reader: aioredis.Redis | None = None
        self._reads: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self.reads = 0  # XREAD round trips, for tests and diagnostics

    def subscribe(self, *, key: str, after: str = START) -> Subscription:
        """Follow `key` from strictly after `after` (the very start if it is not an id)."""
        self._ensure_running()
        return Subscription(self, key, after)

    @property
    def watched_keys(self) -> set[str]:
        return set(self._watch)

    async def aclose(self) -> None:
        # The flag, not only the cancel, stops the loop: a cancel that lands just as a
        # read completes can come back from redis-py as a normal result.
        self._closing = True
        self._idle.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reader is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._reader.delete(self.wake_key)
            await self._reader.aclose()
            self._reader = None
        if self._reads is not None:
            await self._reads.aclose()
            self._reads = None

    # -- registration (called by subscriptions) -------------------------------------

    async def _register(self, subscription: Subscription, last_id: str) -> None:
        self._pending.append((subscription, last_id))
        self._ensure_running()
        self._idle.set()  # in case the reader is parked with nothing to watch
        if self._blocked and not self._wake_sent:
            self._wake_sent = True
            async with self.reads_client.pipeline(transaction=False) as pipe:
                pipe.xadd(self.wake_key, {b"w": b"1"}, maxlen=1, approximate=False)
                pipe.expire(self.wake_key, 3600)
                await pipe.execute()

    def _unregister(self, subscription: Subscription) -> None:
        watch = self._watch.get(subscription.key)
        if watch is not None:
            watch.subscribers.discard(subscription)
            if not watch.subscribers:
                del self._watch[subscription.key]
        self._pending = [(sub, last) for sub, last in self._pending if sub is not subscription]

    # -- the reader task --------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._closing:
            raise RuntimeError("the stream hub is closed")
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"stream-hub {self.wake_key}"
            )

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closing:
            try:
                await self._apply_registrations()
                if not self._watch:
                    self._idle.clear()
                    if not self._pending:
                        await self._idle.wait()
                    continue
                await self._read_once()
                backoff = 0.05
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                logger.warning("stream hub: Redis failed (%s); retrying in %.2fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                logger.exception("stream hub: unexpected failure; retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def _reader_client(self) -> aioredis.Redis:
        """The hub's own connection: the one that blocks in XREAD."""
        if self._reader is None:
            self._reader = unparsed_streams(
                new_async_redis(socket_timeout=self.socket_timeout, client_name=self.client_name)
            )
        return self._reader

    @property
    def reads_client(self) -> aioredis.Redis:
        """A pooled client for the non-blocking reads of subscribers (backfill) and wakes."""
        if self._reads is None:
            self._reads = unparsed_streams(
                aioredis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)
            )
        return self._reads

    async def _apply_registrations(self) -> None:
        self._wake_sent = False
        while self._pending:
            # Popped only once applied: a Redis failure retries it on the next turn.
            subscription, last_id = self._pending[0]
            watch = self._watch.get(subscription.key)
            if subscription.finished:
                pass
            elif watch is None:
                self._watch[subscription.key] = _Watch(cursor=last_id, subscribers={subscription})
            elif stream_id(watch.cursor) > stream_id(last_id):
                entries = await self._reader_client().xrange(
                    subscription.key, f"({last_id}", watch.cursor
                )
                gap = [to_event(entry) for entry in entries]
                # A subscriber that cannot take the gap is dropped; it will catch up.
                if not gap or subscription._offer(gap):
                    watch.subscribers.add(subscription)
            else:
                if stream_id(watch.cursor) < stream_id(last_id):
                    subscription._skip_until(last_id)
                watch.subscribers.add(subscription)
            self._pending.pop(0)

    async def _read_once(self) -> None:
        streams: dict[str, str] = {self.wake_key: self._wake_cursor}
        streams.update((key, watch.cursor) for key, watch in self._watch.items())
        self._blocked = True
        try:
            reply = await self._reader_client().xread(
                streams, count=self.count, block=self.block_ms
            )
        finally:
            self._blocked = False
        self.reads += 1
        # A map under RESP3, a list of [key, entries] pairs under RESP2.
        for raw_key, entries in reply.items() if isinstance(reply, dict) else reply or ():
            key = raw_key.decode()
            if key == self.wake_key:
                self._wake_cursor = entries[-1][0].decode()
                continue
            watch = self._watch.get(key)
            if watch is None or not entries:
                continue  # its last subscriber left while we were reading
            batch = [to_event(entry) for entry in entries]
            watch.cursor = batch[-1].id
            self._fan_out(key, watch, batch)

    def _fan_out(self, key: str, watch: _Watch, batch: list[StreamEvent]) -> None:
        dropped = [sub for sub in watch.subscribers if not sub._offer(batch)]
        if dropped:
            logger.info("stream hub: %d subscriber(s) fell behind on %s", len(dropped), key)
            watch.subscribers.difference_update(dropped)
            if not watch.subscribers:
                del self._watch[key]


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamHub] = weakref.WeakKeyDictionary()


def stream_hub() -> StreamHub:
    """The hub of the running event loop (one per web process under Daphne)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = StreamHub()
        _hubs[loop] = hub
    return hub
