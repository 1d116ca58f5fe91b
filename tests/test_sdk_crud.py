"""The official langgraph-sdk against a real Daphne server: assistants and threads CRUD."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.conftest import TenantWithKey
from tests.live import WebServer


@asynccontextmanager
async def clients(
    web_server: WebServer, *tenants: TenantWithKey
) -> AsyncIterator[list[LangGraphClient]]:
    opened = [get_client(url=web_server.api_url, api_key=tenant.key) for tenant in tenants]
    try:
        yield opened
    finally:
        for client in opened:
            await client.aclose()


async def status_of(call: Awaitable[Any]) -> int:
    with pytest.raises(httpx.HTTPStatusError) as failure:
        await call
    return failure.value.response.status_code


async def all_404(calls: list[Callable[[], Awaitable[Any]]]) -> bool:
    return [await status_of(call()) for call in calls] == [404] * len(calls)


async def test_sdk_assistants(
    web_server: WebServer, live_alice: TenantWithKey, live_bob: TenantWithKey
) -> None:
    async with clients(web_server, live_alice, live_bob) as (alice, bob):
        created = await alice.assistants.create(
            graph_id="echo",
            name="sdk helper",
            config={"tags": ["sdk"]},
            context={"tone": "dry"},
            metadata={"suite": "sdk"},
        )
        assistant_id = created["assistant_id"]
        assert created["version"] == 1
        assert await alice.assistants.get(assistant_id) == created
        assert await status_of(alice.assistants.create(graph_id="nope")) == 422
        assert (
            await status_of(alice.assistants.create(graph_id="echo", assistant_id=assistant_id))
            == 409
        )

        found = await alice.assistants.search(metadata={"suite": "sdk"})
        assert [a["assistant_id"] for a in found] == [assistant_id]
        named = await alice.assistants.search(name="HELPER", select=["assistant_id", "name"])
        assert named == [{"assistant_id": assistant_id, "name": "sdk helper"}]
        page = await alice.assistants.search(limit=2, response_format="object")
        assert len(page["assistants"]) == 2
        assert page["next"] == "2"
        assert await alice.assistants.count(graph_id="echo") == 2  # with the default one

        updated = await alice.assistants.update(assistant_id, metadata={"v": 2}, name="renamed")
        assert updated["version"] == 2
        assert updated["metadata"] == {"suite": "sdk", "v": 2}
        versions = await alice.assistants.get_versions(assistant_id)
        assert [v["version"] for v in versions] == [2, 1]
        back = await alice.assistants.set_latest(assistant_id, 1)
        assert (back["version"], back["name"]) == (1, "sdk helper")

        drawing = await alice.assistants.get_graph("echo", xray=True)
        assert {node["id"] for node in drawing["nodes"]} >= {"respond"}
        schemas = await alice.assistants.get_schemas(assistant_id)
        assert schemas["graph_id"] == "echo"
        assert "messages" in schemas["input_schema"]["properties"]
        assert await alice.assistants.get_subgraphs(assistant_id) == {}

        assert await all_404(
            [
                lambda: bob.assistants.get(assistant_id),
                lambda: bob.assistants.update(assistant_id, name="bob's now"),
                lambda: bob.assistants.get_versions(assistant_id),
                lambda: bob.assistants.set_latest(assistant_id, 2),
                lambda: bob.assistants.get_graph(assistant_id),
                lambda: bob.assistants.get_schemas(assistant_id),
                lambda: bob.assistants.get_subgraphs(assistant_id),
                lambda: bob.assistants.delete(assistant_id),
            ]
        )
        assert await bob.assistants.search(metadata={"suite": "sdk"}) == []

        await alice.assistants.delete(assistant_id)
        assert await status_of(alice.assistants.get(assistant_id)) == 404


async def test_sdk_threads(
    web_server: WebServer, live_alice: TenantWithKey, live_bob: TenantWithKey
) -> None:
    async with clients(web_server, live_alice, live_bob) as (alice, bob):
        created = await alice.threads.create(metadata={"user": "u1"}, graph_id="echo")
        thread_id = created["thread_id"]
        assert created["metadata"] == {"user": "u1", "graph_id": "echo"}
        assert created["status"] == "idle"
        assert await alice.threads.get(thread_id) == created
        assert await status_of(alice.threads.create(thread_id=thread_id)) == 409
        same = await alice.threads.create(thread_id=thread_id, if_exists="do_nothing")
        assert same["thread_id"] == thread_id
        await alice.threads.create(metadata={"user": "u2"})

        found = await alice.threads.search(metadata={"user": "u1"})
        assert [t["thread_id"] for t in found] == [thread_id]
        assert await alice.threads.count() == 2
        assert await alice.threads.count(status="idle", metadata={"graph_id": "echo"}) == 1

        updated = await alice.threads.update(thread_id, metadata={"user": "u3", "tag": "x"})
        assert updated["metadata"] == {"user": "u3", "graph_id": "echo", "tag": "x"}
        assert await alice.threads.update(thread_id, metadata={}, return_minimal=True) is None

        assert await all_404(
            [
                lambda: bob.threads.get(thread_id),
                lambda: bob.threads.update(thread_id, metadata={"user": "bob"}),
                lambda: bob.threads.delete(thread_id),
            ]
        )
        assert await bob.threads.search(ids=[thread_id]) == []
        assert await bob.threads.count() == 0

        await alice.threads.delete(thread_id)
        assert await status_of(alice.threads.get(thread_id)) == 404
