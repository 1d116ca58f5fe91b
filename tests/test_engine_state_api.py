"""Thread state and history endpoints, on checkpoints written by a real worker."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from langgraph_sdk import get_client

from apps.tenancy.scope import tenant_scope
from apps.threads.models import Thread
from tests.apiclient import TenantApi
from tests.conftest import TenantWithKey
from tests.engine_support import new_thread, read_events, start_run, thread_row
from tests.live import Process, WebServer

pytestmark = [pytest.mark.postgres]

HI = {"messages": [{"role": "user", "content": "hi"}], "n": 2}


def _ran(tenant: TenantWithKey, graph_id: str = "burst", **body: object) -> Thread:
    thread = new_thread(tenant.tenant)
    run = start_run(tenant.tenant, graph_id, thread=thread, **body)
    read_events(run.run_id)
    return thread


def test_state_after_a_run(live_alice: TenantWithKey, worker: Process) -> None:
    thread = _ran(live_alice, input=HI)
    state = TenantApi(live_alice.key).get(f"/threads/{thread.thread_id}/state").json()
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai"]
    assert state["values"]["emitted"] == 2
    assert state["next"] == []
    assert state["tasks"] == []
    assert state["interrupts"] == []
    assert state["checkpoint"]["thread_id"] == str(thread.thread_id)
    assert state["checkpoint"]["checkpoint_ns"] == ""
    assert state["parent_checkpoint"]["checkpoint_id"]
    assert state["metadata"]["step"] == 2
    assert state["metadata"]["graph_id"] == "burst"
    assert state["created_at"]


def test_history_newest_first_with_before_and_metadata_filter(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = _ran(live_alice, input=HI)
    api = TenantApi(live_alice.key)
    path = f"/threads/{thread.thread_id}/history"
    history = api.post(path, {"limit": 10}).json()
    assert [s["metadata"]["step"] for s in history] == [2, 1, 0, -1]
    assert (
        history[0]["checkpoint"]["checkpoint_id"]
        == (api.get(f"/threads/{thread.thread_id}/state").json()["checkpoint"]["checkpoint_id"])
    )
    latest = history[0]["checkpoint"]["checkpoint_id"]
    older = api.post(path, {"limit": 2, "before": latest}).json()
    assert [s["metadata"]["step"] for s in older] == [1, 0]
    by_source = api.post(path, {"metadata": {"source": "input"}}).json()
    assert [s["metadata"]["step"] for s in by_source] == [-1]
    assert [s["metadata"]["step"] for s in api.get(path, limit=1).json()] == [2]

    at = api.get(f"/threads/{thread.thread_id}/state/{history[2]['checkpoint']['checkpoint_id']}")
    assert at.json()["metadata"]["step"] == 0
    assert at.json()["next"] == ["emit"]


def test_interrupted_thread_state_and_update(live_alice: TenantWithKey, worker: Process) -> None:
    thread = _ran(live_alice, "approval", input={"request": "deploy"})
    api = TenantApi(live_alice.key)
    state = api.get(f"/threads/{thread.thread_id}/state").json()
    assert state["next"] == ["ask"]
    assert [i["value"] for i in state["interrupts"]] == [{"question": "approve deploy?"}]
    assert state["tasks"][0]["interrupts"] == state["interrupts"]
    assert thread_row(live_alice.tenant, thread.thread_id).status == "interrupted"

    updated = api.post(
        f"/threads/{thread.thread_id}/state", {"values": {"decision": "no"}, "as_node": "ask"}
    )
    assert updated.status_code == 200, updated.content
    checkpoint = updated.json()["checkpoint"]
    assert checkpoint["thread_id"] == str(thread.thread_id)
    state = api.get(f"/threads/{thread.thread_id}/state").json()
    assert state["checkpoint"]["checkpoint_id"] == checkpoint["checkpoint_id"]
    assert state["values"] == {"request": "deploy", "decision": "no"}
    assert state["next"] == []
    row = thread_row(live_alice.tenant, thread.thread_id)
    assert (row.status, row.values) == ("idle", {"request": "deploy", "decision": "no"})


def test_thread_without_runs_has_empty_state_and_refuses_updates(
    live_alice: TenantWithKey,
) -> None:
    thread = new_thread(live_alice.tenant)
    api = TenantApi(live_alice.key)
    state = api.get(f"/threads/{thread.thread_id}/state").json()
    assert state["values"] == {}
    assert state["checkpoint"]["thread_id"] == str(thread.thread_id)
    assert api.post(f"/threads/{thread.thread_id}/history", {}).json() == []
    refused = api.post(f"/threads/{thread.thread_id}/state", {"values": {"x": 1}})
    assert refused.status_code == 409
    assert "detail" in refused.json()


def test_update_refused_while_a_run_is_in_flight(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = _ran(live_alice, input=HI)
    with tenant_scope(live_alice.tenant):
        Thread.objects.filter(pk=thread.pk).update(status=Thread.Status.BUSY)
    response = TenantApi(live_alice.key).post(
        f"/threads/{thread.thread_id}/state", {"values": {"n": 1}}
    )
    assert response.status_code == 409


def test_another_tenant_gets_404_and_checkpoints_cannot_name_other_threads(
    live_alice: TenantWithKey, live_bob: TenantWithKey, worker: Process
) -> None:
    alice_thread = _ran(live_alice, input=HI)
    bob_thread = new_thread(live_bob.tenant)
    bob = TenantApi(live_bob.key)
    missing = TenantApi(live_bob.key).get("/threads/00000000-0000-0000-0000-000000000000/state")
    for response in (
        bob.get(f"/threads/{alice_thread.thread_id}/state"),
        bob.get(f"/threads/{alice_thread.thread_id}/state/whatever"),
        bob.post(f"/threads/{alice_thread.thread_id}/history", {}),
        bob.get(f"/threads/{alice_thread.thread_id}/history"),
        bob.post(f"/threads/{alice_thread.thread_id}/state", {"values": {"n": 1}}),
        bob.post(f"/threads/{alice_thread.thread_id}/state/checkpoint", {"checkpoint": {}}),
    ):
        assert response.status_code == 404
        assert response.json() == missing.json()
    # Bob names Alice's thread inside a checkpoint of his own thread: he reads his own.
    smuggled = bob.post(
        f"/threads/{bob_thread.thread_id}/state/checkpoint",
        {"checkpoint": {"thread_id": str(alice_thread.thread_id)}},
    ).json()
    assert smuggled["values"] == {}
    assert smuggled["checkpoint"]["thread_id"] == str(bob_thread.thread_id)


async def test_sdk_reads_state_and_history(
    live_alice: TenantWithKey, worker: Process, web_server: WebServer
) -> None:
    thread = await sync_to_async(_ran)(live_alice, input=HI)
    client = get_client(url=web_server.api_url, api_key=live_alice.key)
    state = await client.threads.get_state(str(thread.thread_id))
    assert state["values"]["emitted"] == 2
    history = await client.threads.get_history(str(thread.thread_id), limit=2)
    assert [s["metadata"]["step"] for s in history] == [2, 1]
    at = await client.threads.get_state(
        str(thread.thread_id), checkpoint_id=history[1]["checkpoint"]["checkpoint_id"]
    )
    assert at["next"] == ["respond"]
    await client.http.client.aclose()
