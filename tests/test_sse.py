"""SSE framing, stream-mode filtering, heartbeats and disconnect handling, in process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from agenthost.redis import async_redis
from apps.runs.events import END_EVENT, StreamEvent
from apps.runs.hub import GAP_EVENT, StreamHub
from apps.runs.sse import ReplaySource, encode_events, mode_filter, sse_body, wait_body

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def hub() -> AsyncIterator[StreamHub]:
    hub = StreamHub(block_ms=1_000, socket_timeout=5.0)
    yield hub
    await hub.aclose()
    await async_redis().aclose()


def event(name: str, data: object, event_id: str = "1-0") -> StreamEvent:
    return StreamEvent(id=event_id, event=name, data=orjson.dumps(data))


async def test_frames_are_langgraphs_with_an_id_on_every_stream_event() -> None:
    frames = encode_events(
        [event("metadata", {"run_id": "r"}, "5-0"), event(GAP_EVENT, {}, "")], None
    )
    assert frames == (
        b'event: metadata\r\ndata: {"run_id":"r"}\r\nid: 5-0\r\n\r\nevent: gap\r\ndata: {}\r\n\r\n'
    )


@pytest.mark.parametrize(
    ("modes", "sent"),
    [
        (None, {"metadata", "values", "custom", "updates|child:1", "messages/partial", "end"}),
        (["custom"], {"metadata", "custom", "end", "error"}),
        (["updates"], {"metadata", "updates|child:1", "end", "error"}),
        (["messages-tuple"], {"metadata", "messages", "messages/partial", "end", "error"}),
    ],
)
async def test_stream_modes_filter_but_never_drop_metadata_error_or_end(
    modes: list[str] | None, sent: set[str]
) -> None:
    names = ["metadata", "values", "custom", "updates|child:1", "messages"]
    names += ["messages/partial", "error", "end"]
    accepts = mode_filter(modes)
    kept = {name for name in names if accepts is None or accepts(name)}
    assert kept == sent | ({"messages", "error"} if modes is None else set())


async def test_body_sends_batches_as_single_chunks_and_stops_after_end() -> None:
    events = [event("custom", {"i": i}, f"1-{i}") for i in range(3)]
    events.append(event(END_EVENT, {"status": "success"}, "2-0"))
    chunks = [
        chunk async for chunk in sse_body(ReplaySource(events), modes=None, heartbeat_seconds=5)
    ]
    assert len(chunks) == 1
    assert chunks[0].count(b"\r\n\r\n") == 4
    assert chunks[0].endswith(b'event: end\r\ndata: {"status":"success"}\r\nid: 2-0\r\n\r\n')


async def test_heartbeats_while_the_run_is_silent(hub: StreamHub) -> None:
    key = f"test:sse:{uuid.uuid4().hex}"
    body = sse_body(hub.subscribe(key=key), modes=None, heartbeat_seconds=0.05)
    first, second = await anext(body), await anext(body)
    assert first.startswith(b": heartbeat 0.")
    assert first.endswith(b"s\r\n\r\n")
    assert second.startswith(b": heartbeat 0.1")
    await async_redis().xadd(key, {"e": END_EVENT, "d": b"{}"})
    assert (await anext(body)).startswith(b"event: end\r\n")
    with pytest.raises(StopAsyncIteration):
        await anext(body)


async def test_a_client_leaving_runs_the_disconnect_action_and_leaves_the_hub(
    hub: StreamHub,
) -> None:
    key = f"test:sse:{uuid.uuid4().hex}"
    left = asyncio.Event()

    async def on_disconnect() -> None:
        left.set()

    streaming = asyncio.Event()

    async def consume() -> None:
        async for _ in sse_body(
            hub.subscribe(key=key), modes=None, heartbeat_seconds=5, on_disconnect=on_disconnect
        ):
            streaming.set()

    await async_redis().xadd(key, {"e": "custom", "d": b"{}"})
    task = asyncio.create_task(consume())
    await streaming.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert left.is_set()
    assert key not in hub.watched_keys


async def test_a_finished_stream_does_not_run_the_disconnect_action() -> None:
    called = []

    async def on_disconnect() -> None:
        called.append(True)

    body = sse_body(
        ReplaySource([event(END_EVENT, {})]),
        modes=None,
        heartbeat_seconds=5,
        on_disconnect=on_disconnect,
    )
    assert [chunk async for chunk in body]
    assert called == []


async def test_wait_body_keeps_alive_then_sends_the_final_output(hub: StreamHub) -> None:
    key = f"test:sse:{uuid.uuid4().hex}"
    await async_redis().xadd(key, {"e": "metadata", "d": b"{}"})

    async def final_output() -> dict[str, object]:
        return {"messages": ["done"]}

    body = wait_body(
        hub.subscribe(key=key, after="$"), final_output=final_output, keepalive_seconds=0.05
    )
    assert await anext(body) == b"\n"
    await async_redis().xadd(key, {"e": END_EVENT, "d": b"{}"})
    rest = [chunk async for chunk in body]
    assert rest[-1] == b'{"messages":["done"]}'
    assert set(rest[:-1]) <= {b"\n"}
