"""The official langgraph-sdk against a real Daphne server and worker: runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.conftest import TenantWithKey
from tests.engine_support import wait_settled
from tests.live import Process, WebServer

pytestmark = [pytest.mark.postgres]

HI = {"messages": [{"role": "user", "content": "hi"}]}


@sync_to_async
def settled(run_id: Any) -> None:
    """wait_settled from async code; its thread's connection must not outlive the test."""
    try:
        wait_settled(run_id)
    finally:
        connection.close()


@asynccontextmanager
async def sdk(web_server: WebServer, tenant: TenantWithKey) -> AsyncIterator[LangGraphClient]:
    client = get_client(url=web_server.api_url, api_key=tenant.key)
    try:
        yield client
    finally:
        await client.aclose()


async def test_stream_wait_create_and_join(
    web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    async with sdk(web_server, live_alice) as client:
        thread = await client.threads.create()
        created: list[Any] = []
        parts = [
            part
            async for part in client.runs.stream(
                thread["thread_id"],
                "burst",
                input={**HI, "n": 3},
                stream_mode=["custom", "values"],
                on_run_created=created.append,
            )
        ]
        run_id = parts[0].data["run_id"]
        assert created == [{"run_id": run_id, "thread_id": thread["thread_id"]}]
        assert parts[0].event == "metadata"
        assert [p.data["i"] for p in parts if p.event == "custom"] == [0, 1, 2]
        assert parts[-1].event == "end"
        assert all(part.id for part in parts)
        await settled(run_id)

        values = await client.runs.wait(thread["thread_id"], "burst", input={**HI, "n": 1})
        assert values["messages"][-1]["content"] == "echo: hi"

        run = await client.runs.create(thread["thread_id"], "burst", input={**HI, "n": 2})
        assert run["status"] == "pending"
        joined = await client.runs.join(thread["thread_id"], run["run_id"])
        assert joined["emitted"] == 2
        await settled(run["run_id"])
        fetched = await client.runs.get(thread["thread_id"], run["run_id"])
        assert fetched["status"] == "success"
        listed = await client.runs.list(thread["thread_id"])
        assert listed[0]["run_id"] == run["run_id"]
        assert len(listed) == 3
        for old in listed:
            await settled(old["run_id"])
        await client.runs.delete(thread["thread_id"], run["run_id"])
        assert len(await client.runs.list(thread["thread_id"])) == 2


async def test_stateless_stream_and_wait(
    web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    async with sdk(web_server, live_alice) as client:
        parts = [
            part
            async for part in client.runs.stream(
                None, "burst", input={**HI, "n": 2}, stream_mode="custom"
            )
        ]
        assert [p.event for p in parts] == ["metadata", "custom", "custom", "end"]
        await settled(parts[0].data["run_id"])
        waited = await client.runs.wait(None, "echo", input=HI)
        assert waited["messages"][-1]["content"].endswith("hi")


async def test_join_stream_resumes_after_the_last_event_id(
    web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    async with sdk(web_server, live_alice) as client:
        thread = await client.threads.create()
        tid = thread["thread_id"]
        run = await client.runs.create(
            tid, "slow", input={"k": 6, "delay": 0.1}, stream_mode=["custom"]
        )
        first = []
        stream = client.runs.join_stream(tid, run["run_id"], stream_mode="custom")
        async for part in stream:
            first.append(part)
            if part.event == "custom":
                break
        await stream.aclose()  # drop the connection mid-run
        rest = [
            part
            async for part in client.runs.join_stream(
                tid, run["run_id"], last_event_id=first[-1].id
            )
        ]
        steps = [p.data["step"] for p in first + rest if p.event == "custom"]
        assert steps == list(range(6))
        assert rest[-1].event == "end"
        assert len({p.id for p in first + rest}) == len(first) + len(rest)
        await settled(run["run_id"])


async def test_cancel_and_a_failing_graph(
    web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    async with sdk(web_server, live_alice) as client:
        thread = await client.threads.create()
        tid = thread["thread_id"]
        run = await client.runs.create(tid, "slow", input={"k": 50, "delay": 0.1})
        await client.runs.cancel(tid, run["run_id"])
        await client.runs.join(tid, run["run_id"])
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
        await settled(run["run_id"])

        parts = [p async for p in client.runs.stream(tid, "burst", input={**HI, "n": -1})]
        assert [p.event for p in parts][-2:] == ["error", "end"]
        assert parts[-2].data["error"] == "ValueError"
        await settled(parts[0].data["run_id"])
        with pytest.raises(Exception, match="ValueError"):
            await client.runs.wait(tid, "burst", input={**HI, "n": -1}, raise_error=True)
        for done in await client.runs.list(tid):
            await settled(done["run_id"])


async def test_bob_cannot_reach_alices_runs_through_the_sdk(
    web_server: WebServer, live_alice: TenantWithKey, live_bob: TenantWithKey, worker: Process
) -> None:
    async with sdk(web_server, live_alice) as alice, sdk(web_server, live_bob) as bob:
        thread = await alice.threads.create()
        tid = thread["thread_id"]
        run = await alice.runs.create(tid, "burst", input={**HI, "n": 1})
        await alice.runs.join(tid, run["run_id"])
        await settled(run["run_id"])
        calls = [
            lambda: bob.runs.get(tid, run["run_id"]),
            lambda: bob.runs.join(tid, run["run_id"]),
            lambda: bob.runs.cancel(tid, run["run_id"]),
            lambda: bob.runs.delete(tid, run["run_id"]),
            lambda: bob.runs.list(tid),
            lambda: bob.runs.create(tid, "burst", input=HI),
        ]
        for call in calls:
            with pytest.raises(httpx.HTTPStatusError) as refused:
                await call()
            assert refused.value.response.status_code == 404
        with pytest.raises(httpx.HTTPStatusError) as refused:
            async for _ in bob.runs.join_stream(tid, run["run_id"]):
                pass
        assert refused.value.response.status_code == 404
