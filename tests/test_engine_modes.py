"""Each stream mode's events, as a real worker publishes them (LANGGRAPH_PROTOCOL.md (b))."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TenantWithKey
from tests.engine_support import Event, new_thread, read_events, run_row, start_run, thread_row
from tests.live import Process

pytestmark = [pytest.mark.postgres]

HI = {"messages": [{"role": "user", "content": "hi there"}], "n": 2}


def _events(tenant: TenantWithKey, graph_id: str, **body: Any) -> list[Event]:
    run = start_run(tenant.tenant, graph_id, thread=new_thread(tenant.tenant), **body)
    events = read_events(run.run_id)
    assert (events[0].event, events[-1].event) == ("metadata", "end")
    return events[1:-1]


def _names(events: list[Event]) -> list[str]:
    return [event.event for event in events]


def test_values_updates_custom_and_message_tuples_in_production_order(
    live_alice: TenantWithKey, worker: Process
) -> None:
    modes = ["values", "updates", "custom", "messages-tuple"]
    events = _events(live_alice, "burst", input=HI, stream_mode=modes)
    assert _names(events) == [
        "values",
        "custom",
        "custom",
        "updates",
        "values",
        "messages",
        "updates",
        "values",
    ]
    assert events[0].data["messages"][0]["type"] == "human"
    assert events[3].data == {"emit": {"emitted": 2}}
    message, metadata = events[5].data
    assert (message["type"], message["id"], message["content"]) == ("ai", "ai-1", "echo: hi there")
    assert metadata["langgraph_node"] == "respond"
    assert metadata["graph_id"] == "burst"
    assert {"run_id", "thread_id", "assistant_id"} <= metadata.keys()
    assert [m["type"] for m in events[-1].data["messages"]] == ["human", "ai"]


def test_default_stream_mode_is_values(live_alice: TenantWithKey, worker: Process) -> None:
    assert set(_names(_events(live_alice, "burst", input=HI))) == {"values"}


def test_legacy_messages_mode_accumulates_chunks(
    live_alice: TenantWithKey, worker: Process
) -> None:
    events = _events(live_alice, "echo", input=HI, stream_mode=["messages"])
    assert _names(events) == ["messages/metadata"] + ["messages/partial"] * 5
    (message_id,) = events[0].data
    assert events[0].data[message_id]["metadata"]["langgraph_node"] == "respond"
    partial = [e.data[0] for e in events[1:]]
    assert [m["content"] for m in partial] == [
        "echo:",
        "echo: ",
        "echo: hi",
        "echo: hi ",
        "echo: hi there",
    ]
    assert {(m["type"], m["id"]) for m in partial} == {("ai", message_id)}


def test_legacy_messages_mode_completes_whole_messages(
    live_alice: TenantWithKey, worker: Process
) -> None:
    events = _events(live_alice, "burst", input=HI, stream_mode=["messages"])
    assert _names(events) == ["messages/metadata", "messages/complete"]
    assert list(events[0].data) == ["ai-1"]
    assert events[1].data[0]["content"] == "echo: hi there"


def test_tasks_and_checkpoints(live_alice: TenantWithKey, worker: Process) -> None:
    events = _events(live_alice, "burst", input={"n": 1}, stream_mode=["tasks", "checkpoints"])
    checkpoints = [e.data for e in events if e.event == "checkpoints"]
    assert [c["metadata"]["step"] for c in checkpoints] == [-1, 0, 1, 2]
    assert {"config", "parent_config", "values", "metadata", "next", "tasks"} <= set(checkpoints[0])
    assert checkpoints[-1]["next"] == []
    tasks = [e.data for e in events if e.event == "tasks"]
    assert [(t["name"], "result" in t) for t in tasks] == [
        ("emit", False),
        ("emit", True),
        ("respond", False),
        ("respond", True),
    ]
    assert tasks[1]["result"] == {"emitted": 1}
    assert tasks[1]["error"] is None


def test_debug(live_alice: TenantWithKey, worker: Process) -> None:
    events = _events(live_alice, "burst", input={"n": 1}, stream_mode=["debug"])
    assert set(_names(events)) == {"debug"}
    assert {e.data["type"] for e in events} == {"checkpoint", "task", "task_result"}


def test_events_mode_streams_callbacks_beside_other_modes(
    live_alice: TenantWithKey, worker: Process
) -> None:
    events = _events(live_alice, "burst", input={"n": 1}, stream_mode=["events", "custom"])
    assert _names(events).count("custom") == 1
    callbacks = [e.data for e in events if e.event == "events"]
    assert callbacks[0]["event"] == "on_chain_start"
    assert {"on_chain_start", "on_chain_end"} <= {c["event"] for c in callbacks}
    assert {"emit", "respond"} <= {c["name"] for c in callbacks}


def test_subgraph_events_carry_their_namespace(live_alice: TenantWithKey, worker: Process) -> None:
    body = {"input": {"topic": " x "}, "stream_mode": ["updates", "custom"]}
    flat = _events(live_alice, "nested", **body)
    assert _names(flat) == ["updates", "updates"]
    nested = _events(live_alice, "nested", **body, stream_subgraphs=True)
    names = _names(nested)
    assert names[0] == "updates"
    assert names[1].startswith("custom|inner:")
    assert names[2:4] == [names[1].replace("custom", "updates")] * 2
    assert names[4] == "updates"
    assert nested[1].data == {"drafting": "x"}


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        (["custom"], [("values", {"__interrupt__"})]),
        (["updates"], [("updates", {"__interrupt__"})]),
        (["values"], [("values", {"request"}), ("values", {"request", "__interrupt__"})]),
    ],
)
def test_interrupts_travel_under_updates_or_values(
    live_alice: TenantWithKey, worker: Process, modes: list[str], expected: list[Any]
) -> None:
    events = _events(live_alice, "approval", input={"request": "x"}, stream_mode=modes)
    assert [(e.event, set(e.data)) for e in events] == expected
    (interrupt,) = events[-1].data["__interrupt__"]
    assert interrupt["value"] == {"question": "approve x?"}
    assert set(interrupt) == {"value", "id"}


def test_interrupted_run_output_thread_and_resume(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = new_thread(live_alice.tenant)
    first = start_run(live_alice.tenant, "approval", thread=thread, input={"request": "x"})
    assert read_events(first.run_id)[-1].data["status"] == "success"
    output = run_row(live_alice.tenant, first.run_id).output
    assert output["request"] == "x"
    assert [i["value"] for i in output["__interrupt__"]] == [{"question": "approve x?"}]
    row = thread_row(live_alice.tenant, thread.thread_id)
    assert row.status == "interrupted"
    assert [[i["value"] for i in v] for v in row.interrupts.values()] == [
        [{"question": "approve x?"}]
    ]

    second = start_run(live_alice.tenant, "approval", thread=thread, command={"resume": "yes"})
    read_events(second.run_id)
    assert run_row(live_alice.tenant, second.run_id).output == {"request": "x", "decision": "yes"}
    row = thread_row(live_alice.tenant, thread.thread_id)
    assert (row.status, row.interrupts, row.values["decision"]) == ("idle", {}, "yes")
