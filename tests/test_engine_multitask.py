"""multitask_strategy against a run in flight on the thread, with a real worker."""

from __future__ import annotations

import pytest

from apps.runs.events import parse_stream_id
from apps.runs.services import ThreadBusy, run_cancel
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

SLOW = {"input": {"k": 50, "delay": 0.05}, "stream_mode": ["custom"]}


def _running_slow(tenant: TenantWithKey) -> tuple[Thread, object]:
    thread = new_thread(tenant.tenant)
    first = start_run(tenant.tenant, "slow", thread=thread, **SLOW)
    read_events(first.run_id, until=lambda events: len(customs(events)) == 2)
    return thread, first


def test_reject_refuses_a_second_run(live_alice: TenantWithKey, worker: Process) -> None:
    thread, first = _running_slow(live_alice)
    with pytest.raises(ThreadBusy):
        start_run(live_alice.tenant, "burst", thread=thread, multitask_strategy="reject")
    with tenant_scope(live_alice.tenant):
        assert thread.runs.count() == 1
        run_cancel(run=run_row(live_alice.tenant, first.run_id))
    read_events(first.run_id)


def test_interrupt_cancels_the_run_in_flight_then_runs(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread, first = _running_slow(live_alice)
    second = start_run(
        live_alice.tenant, "burst", thread=thread, input={"n": 1}, multitask_strategy="interrupt"
    )
    assert read_events(first.run_id)[-1].data["status"] == "interrupted"
    assert read_events(second.run_id)[-1].data["status"] == "success"
    assert run_row(live_alice.tenant, first.run_id).status == "interrupted"
    after = thread_row(live_alice.tenant, thread.thread_id)
    assert (after.status, after.values["emitted"]) == ("idle", 1)
    # The interrupted run's checkpoints stayed.
    assert checkpoint_run_ids(thread.thread_id) == {str(first.run_id), str(second.run_id)}


def test_rollback_deletes_the_run_in_flight_then_runs(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread, first = _running_slow(live_alice)
    second = start_run(
        live_alice.tenant, "burst", thread=thread, input={"n": 1}, multitask_strategy="rollback"
    )
    assert read_events(first.run_id)[-1].data["status"] == "interrupted"
    assert read_events(second.run_id)[-1].data["status"] == "success"
    assert run_row(live_alice.tenant, first.run_id) is None
    assert thread_row(live_alice.tenant, thread.thread_id).status == "idle"
    assert checkpoint_run_ids(thread.thread_id) == {str(second.run_id)}


def test_enqueue_runs_after_the_run_in_flight(live_alice: TenantWithKey, worker: Process) -> None:
    thread = new_thread(live_alice.tenant)
    first = start_run(
        live_alice.tenant,
        "slow",
        thread=thread,
        input={"k": 3, "delay": 0.1},
        stream_mode=["custom"],
    )
    second = start_run(live_alice.tenant, "burst", thread=thread, input={"n": 1})
    third = start_run(live_alice.tenant, "burst", thread=thread, input={"n": 2})
    assert run_row(live_alice.tenant, second.run_id).status == "pending"
    first_end = read_events(first.run_id)[-1]
    second_events = read_events(second.run_id)
    third_events = read_events(third.run_id)
    assert first_end.data["status"] == "success"
    # Each queued run starts only after the one before it ended.
    assert parse_stream_id(second_events[0].id) >= parse_stream_id(first_end.id)
    assert parse_stream_id(third_events[0].id) >= parse_stream_id(second_events[-1].id)
    after = thread_row(live_alice.tenant, thread.thread_id)
    assert (after.status, after.values["emitted"]) == ("idle", 2)
