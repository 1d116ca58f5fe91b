"""Serving a run's events over HTTP: resumable Server-Sent Events and ``/wait`` bodies.

Framing is LangGraph's, with an id on every event (every run is resumable)::

    event: <name>\\r\\ndata: <compact JSON>\\r\\nid: <Redis stream entry id>\\r\\n\\r\\n

plus ``: heartbeat <elapsed>s`` comments whenever nothing was sent for a heartbeat
interval. The stream closes after ``end``, which is passed on to the client.

The bodies never touch the ORM while streaming: the view authenticates, loads the run
and, when Redis no longer has the events, the archive, all before the response starts
(``open_run_events``). The only database work afterwards is what the client's leaving
or the run's end asks for (cancel on disconnect, the final ``/wait`` output), in the
request's tenant scope.

Events that can no longer be found anywhere are announced by one ``gap`` event (no id)
``{"after": <cursor>, "resumes_at": <id or null>, "reason": "trimmed" | "expired"}``
rather than replayed partially in silence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import orjson
from django.http import StreamingHttpResponse

from agenthost.redis import async_redis
from apps.runs.events import END_EVENT, ERROR_EVENT, METADATA_EVENT, StreamEvent, events_key
from apps.runs.hub import GAP_EVENT, TAIL, gap_event, normalize_cursor, stream_hub, stream_info
from apps.runs.models import Run

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

# Sent whatever stream modes the client asked for.
ALWAYS_SENT = frozenset({METADATA_EVENT, ERROR_EVENT, END_EVENT, GAP_EVENT})
REPLAY_PAGE = 2_000

Action = Callable[[], Awaitable[object]]


class EventSource(Protocol):
    finished: bool

    async def next_batch(self, max_wait: float | None = None) -> list[StreamEvent] | None: ...

    async def aclose(self) -> None: ...


@dataclass
class ReplaySource:
    """Events already in memory (the archive, or an announced gap), served in pages."""

    events: list[StreamEvent]
    finished: bool = False
    _offset: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self.finished = not self.events

    async def next_batch(self, max_wait: float | None = None) -> list[StreamEvent] | None:
        page = self.events[self._offset : self._offset + REPLAY_PAGE]
        self._offset += len(page)
        self.finished = self._offset >= len(self.events)
        return page

    async def aclose(self) -> None:
        self.finished = True


ArchiveLoader = Callable[[str], Awaitable[list[StreamEvent]]]


async def open_run_events(
    *, run: Run, after: str | None, load_archive: ArchiveLoader
) -> EventSource:
    """Where a client resuming after `after` gets the run's events from.

    Redis while it still holds everything after the cursor; the archive (read now,
    before the response starts) when it does not and the run was archived; otherwise
    what Redis has, behind a ``gap`` event.
    """
    cursor = normalize_cursor(after)
    key = events_key(run.run_id)
    info = await stream_info(async_redis(), key)
    incomplete = info.trimmed_after(cursor) if info is not None else run.is_terminal
    if incomplete and run.events_archived:
        return ReplaySource(await load_archive(cursor))
    if info is None and run.is_terminal:
        end = {"run_id": str(run.run_id), "status": run.status}
        return ReplaySource(
            [
                gap_event(after=cursor, resumes_at=None, reason="expired"),
                StreamEvent(id="", event=END_EVENT, data=orjson.dumps(end)),
            ]
        )
    return stream_hub().subscribe(key=key, after=cursor)


def open_run_end(*, run: Run) -> EventSource:
    """A source that only needs to see the run's ``end`` (for ``/wait`` and ``/join``)."""
    return stream_hub().subscribe(key=events_key(run.run_id), after=TAIL)


def mode_filter(modes: Iterable[str] | None) -> Callable[[str], bool] | None:
    """Which event names a client asking for `modes` gets; None means all of them."""
    if not modes:
        return None
    wanted = set(modes)
    if wanted & {"messages", "messages-tuple"}:
        wanted |= {"messages", "messages-tuple"}
    cache: dict[str, bool] = {}

    def accepts(event: str) -> bool:
        verdict = cache.get(event)
        if verdict is None:
            # "updates|child:<ns>" is a subgraph's updates; "messages/partial" is messages.
            base = event.partition("|")[0].partition("/")[0]
            verdict = event in ALWAYS_SENT or base in wanted
            cache[event] = verdict
        return verdict

    return accepts


def encode_events(events: list[StreamEvent], accepts: Callable[[str], bool] | None) -> bytes:
    parts: list[bytes] = []
    for event in events:
        if accepts is not None and not accepts(event.event):
            continue
        parts += (b"event: ", event.event.encode(), b"\r\ndata: ", event.data)
        if event.id:
            parts += (b"\r\nid: ", event.id.encode())
        parts.append(b"\r\n\r\n")
    return b"".join(parts)


def heartbeat(elapsed: float) -> bytes:
    return f": heartbeat {elapsed:.1f}s\r\n\r\n".encode()


async def sse_body(
    source: EventSource,
    *,
    modes: Iterable[str] | None,
    heartbeat_seconds: float,
    on_disconnect: Action | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body: each batch of events as one chunk, heartbeats when idle."""
    accepts = mode_filter(modes)
    started = last_sent = time.monotonic()
    try:
        while not source.finished:
            wait = max(0.0, last_sent + heartbeat_seconds - time.monotonic())
            batch = await source.next_batch(max_wait=wait)
            raise_if_cancelled()
            chunk = heartbeat(time.monotonic() - started) if batch is None else None
            if batch:
                chunk = encode_events(batch, accepts)
            if chunk:
                last_sent = time.monotonic()
                yield chunk
    except (asyncio.CancelledError, GeneratorExit):
        await _client_left(source, on_disconnect)
        raise
    finally:
        await source.aclose()


async def wait_body(
    source: EventSource,
    *,
    final_output: Action,
    keepalive_seconds: float,
    on_disconnect: Action | None = None,
) -> AsyncIterator[bytes]:
    """A ``/wait`` or ``/join`` body: a bare newline per idle interval, then the output."""
    last_sent = time.monotonic()
    try:
        while not source.finished:
            wait = max(0.0, last_sent + keepalive_seconds - time.monotonic())
            batch = await source.next_batch(max_wait=wait)
            raise_if_cancelled()
            if batch is None:
                last_sent = time.monotonic()
                yield b"\n"
    except (asyncio.CancelledError, GeneratorExit):
        await _client_left(source, on_disconnect)
        raise
    finally:
        await source.aclose()
    yield orjson.dumps(await final_output())


def raise_if_cancelled() -> None:
    """Honour a cancel that the Redis client swallowed.

    A cancel that lands just as a socket read completes can come back as a normal
    result from redis-py; the task still counts it, so check after every read.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _client_left(source: EventSource, on_disconnect: Action | None) -> None:
    if on_disconnect is not None and not source.finished:
        # Shielded: the task serving this response is being cancelled.
        await asyncio.shield(on_disconnect())


def sse_response(body: AsyncIterator[bytes], *, headers: dict[str, str]) -> StreamingHttpResponse:
    return _streaming(body, content_type=SSE_CONTENT_TYPE, headers=headers)


def wait_response(body: AsyncIterator[bytes], *, headers: dict[str, str]) -> StreamingHttpResponse:
    return _streaming(body, content_type=JSON_CONTENT_TYPE, headers=headers)


def _streaming(
    body: AsyncIterator[bytes], *, content_type: str, headers: dict[str, str]
) -> StreamingHttpResponse:
    return StreamingHttpResponse(
        body, content_type=content_type, headers={**STREAM_HEADERS, **headers}
    )
