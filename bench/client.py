"""The benchmark's protocol client: the same raw client for both servers.

The SDK is deliberately not used here: it would add its own per-event work (and an
extra GET after every stream that ends without an ``end`` event), and the client must
not be what limits the figures. Times are ``perf_counter`` seconds from just before the
request is sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.sse import SSEParser
from bench.wire import Endpoint, ProtocolError, request

GRAPH = "graph"
STREAM_MODE = ["custom"]


@dataclass(frozen=True)
class Target:
    """One server under test: its API base URL and the headers it needs."""

    name: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResult:
    status: int = 0
    error: str | None = None
    run_id: str | None = None
    first_event: float | None = None
    first_custom: float | None = None
    last_custom: float | None = None
    finished: float | None = None
    # The custom events' "i" values, in arrival order.
    indices: list[int] = field(default_factory=list)
    last_id: str | None = None
    ended_by: str = "eof"  # "end" event, "eof", or "cut" (we left on purpose)

    @property
    def ok(self) -> bool:
        return self.error is None

    def stream_rate(self) -> float | None:
        """Custom events per second between the first and the last custom event."""
        if self.first_custom is None or self.last_custom is None:
            return None
        span = self.last_custom - self.first_custom
        return (len(self.indices) - 1) / span if span > 0 else None


@dataclass(frozen=True)
class Client:
    """Talks to one target; every request opens its own connection."""

    target: Target
    idle_timeout: float  # how long a response may stay silent; heartbeats count

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.parse(self.target.base_url)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"user-agent": "agenthost-bench/1", **self.target.headers, **extra}


class RequestFailed(Exception):
    pass


async def thread_create(client: Client) -> str:
    response = await request(
        client.endpoint,
        "POST",
        "/threads",
        headers=client.headers(**{"content-type": "application/json"}),
        body=b"{}",
        idle_timeout=client.idle_timeout,
    )
    try:
        body = await response.read()
    finally:
        await response.close()
    if response.status != 200:
        raise RequestFailed(f"POST /threads: HTTP {response.status}: {body[:200]!r}")
    return orjson.loads(body)["thread_id"]


def run_body(*, n: int, resumable: bool = False) -> bytes:
    body: dict[str, Any] = {
        "assistant_id": GRAPH,
        "input": {"messages": [{"role": "user", "content": "bench"}], "n": n},
        "stream_mode": STREAM_MODE,
        "on_disconnect": "continue",
    }
    if resumable:
        body["stream_resumable"] = True
    return orjson.dumps(body)


async def run_stream(
    client: Client,
    *,
    thread_id: str,
    n: int,
    resumable: bool = False,
    leave_after: int | None = None,
) -> StreamResult:
    """``POST /threads/{id}/runs/stream``; with `leave_after`, hang up after that many customs."""
    return await _consume(
        client,
        "POST",
        f"/threads/{thread_id}/runs/stream",
        headers=client.headers(
            **{"content-type": "application/json", "accept": "text/event-stream"}
        ),
        body=run_body(n=n, resumable=resumable),
        leave_after=leave_after,
    )


async def run_join(
    client: Client, *, thread_id: str, run_id: str, last_event_id: str | None
) -> StreamResult:
    """``GET /threads/{id}/runs/{run}/stream``, resuming after `last_event_id`."""
    headers = client.headers(accept="text/event-stream")
    if last_event_id is not None:
        headers["last-event-id"] = last_event_id
    return await _consume(
        client,
        "GET",
        f"/threads/{thread_id}/runs/{run_id}/stream?cancel_on_disconnect=false",
        headers=headers,
        body=None,
        leave_after=None,
    )


async def _consume(
    client: Client,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: bytes | None,
    leave_after: int | None,
) -> StreamResult:
    clock = time.perf_counter
    result = StreamResult()
    parser = SSEParser()
    indices = result.indices
    started = clock()
    try:
        response = await request(
            client.endpoint,
            method,
            path,
            headers=headers,
            body=body,
            idle_timeout=client.idle_timeout,
        )
        try:
            result.status = response.status
            if response.status != 200:
                text = await response.read()
                result.error = f"HTTP {response.status}: {text[:200]!r}"
                return result
            async for chunk in response.chunks():
                now = clock() - started
                for frame in parser.feed(chunk):
                    if result.first_event is None:
                        result.first_event = now
                    if frame.id is not None:
                        result.last_id = frame.id
                    if frame.event == "custom":
                        indices.append(orjson.loads(frame.data)["i"])
                        if result.first_custom is None:
                            result.first_custom = now
                        result.last_custom = now
                        if leave_after is not None and len(indices) >= leave_after:
                            result.ended_by = "cut"
                            return result
                    elif frame.event == "metadata" and result.run_id is None:
                        result.run_id = orjson.loads(frame.data).get("run_id")
                    elif frame.event == "error":
                        result.error = f"error event: {frame.data[:200]!r}"
                    elif frame.event == "end":
                        result.ended_by = "end"
                        return result
        finally:
            result.finished = clock() - started
            await response.close()
    except (OSError, TimeoutError, ProtocolError, ValueError, KeyError, TypeError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result
