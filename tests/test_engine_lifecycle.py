"""How runs end: failure, cancel (interrupt, rollback, pending), stateless clean-up."""

from __future__ import annotations

import time

import pytest

from apps.runs.models import Run
from apps.runs.services import RunNotCancellable, run_cancel, run_delete, run_final_output
from apps.tenancy.scope import tenant_scope
from apps.threads.models import Thread
from tests.conftest import TenantWithKey
from tests.engine_support import (
    checkpoint_run_ids,
    customs,
    new_thread,
    read_events,
    run_row,
    start_run,
    thread_row,
)
from tests.live import Process

pytestmark = [pytest.mark.postgres]


def _cancel(tenant: TenantWithKey, run: Run, action: str = "interrupt") -> float:
    with tenant_scope(tenant.tenant):
        run_cancel(run=run_row(tenant.tenant, run.run_id), action=action)
    return time.monotonic()


def test_failing_graph_ends_with_error_then_end(live_alice: TenantWithKey, worker: Process) -> None:
    thread = new_thread(live_alice.tenant)
    run = start_run(
        live_alice.tenant, "burst", thread=thread, input={"n": -1}, stream_mode=["custom"]
    )
    events = read_events(run.run_id)
    error = {"error": "ValueError", "message": "n must be >= 0, got -1"}
    assert [(e.event, e.data) for e in events[1:]] == [
        ("error", error),
        ("end", {"run_id": str(run.run_id), "status": "error"}),
    ]
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.error) == ("error", error)
    assert run_final_output(run=row) == {"__error__": error}
    thread = thread_row(live_alice.tenant, thread.thread_id)
    assert (thread.status, thread.error) == ("error", error)


def test_cancel_stops_a_running_run_within_a_second_and_keeps_its_steps(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = new_thread(live_alice.tenant)
    run = start_run(
        live_alice.tenant,
        "slow",
        thread=thread,
        input={"k": 50, "delay": 0.1},
        stream_mode=["custom"],
    )
    read_events(run.run_id, until=lambda events: len(customs(events)) == 3)
    cancelled_at = _cancel(live_alice, run)
    events = read_events(run.run_id)
    assert time.monotonic() - cancelled_at < 1.0
    assert events[-1].data == {"run_id": str(run.run_id), "status": "interrupted"}
    assert "error" not in {e.event for e in events}
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.cancel_action) == ("interrupted", "interrupt")
    steps = len(customs(events))
    thread = thread_row(live_alice.tenant, thread.thread_id)
    assert thread.status == "interrupted"
    # Every step that finished is checkpointed: the state counts them.
    assert thread.values["step"] in (steps, steps - 1)
    assert thread.values["step"] >= 3
    assert run_final_output(run=row) == row.output == thread.values


def test_cancel_lands_during_a_long_silent_step(live_alice: TenantWithKey, worker: Process) -> None:
    run = start_run(
        live_alice.tenant,
        "slow",
        thread=new_thread(live_alice.tenant),
        input={"k": 1, "delay": 30},
        stream_mode=["values"],
    )
    read_events(run.run_id, until="values")
    cancelled_at = _cancel(live_alice, run)
    assert read_events(run.run_id)[-1].data["status"] == "interrupted"
    assert time.monotonic() - cancelled_at < 1.0


def test_rollback_restores_the_state_before_the_run_and_deletes_it(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = new_thread(live_alice.tenant)
    first = start_run(live_alice.tenant, "slow", thread=thread, input={"k": 1, "delay": 0})
    read_events(first.run_id)
    before = thread_row(live_alice.tenant, thread.thread_id).values
    assert before["step"] == 1

    second = start_run(
        live_alice.tenant,
        "slow",
        thread=thread,
        input={"k": 50, "delay": 0.05},
        stream_mode=["custom"],
    )
    read_events(second.run_id, until=lambda events: len(customs(events)) == 3)
    _cancel(live_alice, second, action="rollback")
    assert read_events(second.run_id)[-1].data["status"] == "interrupted"
    assert run_row(live_alice.tenant, second.run_id) is None
    after = thread_row(live_alice.tenant, thread.thread_id)
    assert (after.status, after.values) == ("idle", before)
    assert checkpoint_run_ids(thread.thread_id) == {str(first.run_id)}


def test_cancel_of_a_pending_run_ends_its_stream_at_once(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = new_thread(live_alice.tenant)
    run = start_run(live_alice.tenant, "burst", thread=thread, input={"n": 1}, after_seconds=60)
    assert thread_row(live_alice.tenant, thread.thread_id).status == "busy"
    _cancel(live_alice, run)
    events = read_events(run.run_id)
    assert [e.event for e in events] == ["end"]
    assert events[0].data["status"] == "interrupted"
    assert run_row(live_alice.tenant, run.run_id).status == "interrupted"
    assert thread_row(live_alice.tenant, thread.thread_id).status == "idle"


def test_pending_rollback_deletes_the_run(live_alice: TenantWithKey, worker: Process) -> None:
    run = start_run(
        live_alice.tenant,
        "burst",
        thread=new_thread(live_alice.tenant),
        input={"n": 1},
        after_seconds=60,
    )
    _cancel(live_alice, run, action="rollback")
    assert [e.event for e in read_events(run.run_id)] == ["end"]
    assert run_row(live_alice.tenant, run.run_id) is None


def test_only_pending_and_running_runs_can_be_cancelled(
    live_alice: TenantWithKey, worker: Process
) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    read_events(run.run_id)
    with pytest.raises(RunNotCancellable):
        _cancel(live_alice, run)


def test_stateless_run_deletes_its_temporary_thread(
    live_alice: TenantWithKey, worker: Process
) -> None:
    run = start_run(live_alice.tenant, "burst", input={"n": 1}, stream_mode=["custom"])
    temporary = run.thread_id
    assert temporary is not None
    events = read_events(run.run_id)
    assert customs(events) == [{"i": 0, "n": 1}]
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.thread_id, row.stateless) == ("success", None, True)
    assert row.output["emitted"] == 1
    with tenant_scope(live_alice.tenant):
        assert not Thread.objects.filter(pk=temporary).exists()
    assert checkpoint_run_ids(temporary) == set()


def test_stateless_run_may_keep_its_thread(live_alice: TenantWithKey, worker: Process) -> None:
    run = start_run(live_alice.tenant, "burst", input={"n": 1}, on_completion="keep")
    read_events(run.run_id)
    assert run_row(live_alice.tenant, run.run_id).thread_id == run.thread_id
    assert thread_row(live_alice.tenant, run.thread_id).values["emitted"] == 1


def test_deleting_a_running_run_stops_it_and_ends_its_stream(
    live_alice: TenantWithKey, worker: Process
) -> None:
    run = start_run(
        live_alice.tenant,
        "slow",
        thread=new_thread(live_alice.tenant),
        input={"k": 50, "delay": 0.05},
        stream_mode=["custom"],
    )
    read_events(run.run_id, until="custom")
    with tenant_scope(live_alice.tenant):
        run_delete(run=run_row(live_alice.tenant, run.run_id))
    assert read_events(run.run_id)[-1].data["status"] == "interrupted"
    assert run_row(live_alice.tenant, run.run_id) is None
