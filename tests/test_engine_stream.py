"""The run engine's events in the Redis stream, with a real worker process."""

from __future__ import annotations

import orjson
import pytest

from agenthost.redis import sync_redis
from apps.runs.engine.archive import ARCHIVED_STREAM_TTL_SECONDS
from apps.runs.events import events_key
from apps.runs.models import RunEvent
from apps.tenancy.scope import tenant_scope
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


def test_ended_runs_are_archived_with_their_stream_ids(
    live_alice: TenantWithKey, worker: Process
) -> None:
    run = start_run(
        live_alice.tenant,
        "burst",
        thread=new_thread(live_alice.tenant),
        input={"n": 2500},
        stream_mode=["custom"],
    )
    events = read_events(run.run_id)
    with tenant_scope(live_alice.tenant):
        archived = list(RunEvent.objects.filter(run_id=run.run_id).order_by("ms", "seq"))
        assert run_row(live_alice.tenant, run.run_id).events_archived
    assert [(a.event_id, a.event, orjson.loads(a.data)) for a in archived] == [
        (e.id, e.event, e.data) for e in events
    ]
    assert {a.tenant_id for a in archived} == {live_alice.tenant.pk}
    # The stream outlives the archive only briefly.
    assert 0 < sync_redis().ttl(events_key(run.run_id)) <= ARCHIVED_STREAM_TTL_SECONDS


def test_the_archive_keeps_any_text_byte_for_byte(
    live_alice: TenantWithKey, worker: Process
) -> None:
    tricky = 'tab\there, back\\slash, "quote", new\nline, \u00e9t\u00e9 \U0001f600'
    run = start_run(
        live_alice.tenant,
        "approval",
        thread=new_thread(live_alice.tenant),
        input={"request": tricky},
        stream_mode=["values", "updates"],
    )
    events = read_events(run.run_id)
    assert events[1].data == {"request": tricky}
    with tenant_scope(live_alice.tenant):
        archived = list(RunEvent.objects.filter(run_id=run.run_id).order_by("ms", "seq"))
    stream = sync_redis().xrange(events_key(run.run_id))
    assert [(a.event_id, a.event, a.data.encode()) for a in archived] == [
        (i.decode(), f[b"e"].decode(), f[b"d"]) for i, f in stream
    ]
