"""The run engine's events in the Redis stream, with a real worker process."""

from __future__ import annotations

import pytest

from tests.conftest import TenantWithKey
from tests.engine_support import new_thread, read_events, run_row, start_run, thread_row
from tests.live import Process

pytestmark = [pytest.mark.postgres]


def test_burst_events_arrive_in_order_between_metadata_and_end(
    live_alice: TenantWithKey, worker: Process
) -> None:
    thread = new_thread(live_alice.tenant)
    run = start_run(
        live_alice.tenant,
        "burst",
        thread=thread,
        input={"messages": [{"role": "user", "content": "hi"}], "n": 2000},
        stream_mode=["custom"],
    )
    events = read_events(run.run_id)
    assert events[0].event == "metadata"
    assert events[0].data == {"run_id": str(run.run_id), "attempt": 1}
    assert events[-1].event == "end"
    assert events[-1].data == {"run_id": str(run.run_id), "status": "success"}
    custom = [e.data for e in events if e.event == "custom"]
    assert custom == [{"i": i, "n": 2000} for i in range(2000)]
    assert len(events) == 2002
    done = run_row(live_alice.tenant, run.run_id)
    assert done.status == "success"
    assert done.output["emitted"] == 2000
    assert thread_row(live_alice.tenant, thread.thread_id).status == "idle"
