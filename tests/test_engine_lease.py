"""Claim exactly once, lease tokens, stale attempts, the reaper's decisions and timeouts.

These drive the engine in this process (the Celery task is captured, not sent), so
each step can be placed exactly.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from agenthost.redis import sync_redis
from apps.runs.engine import dispatch
from apps.runs.engine.archive import run_events_archive
from apps.runs.engine.lease import Hold, lease_renew, run_claim
from apps.runs.engine.outcome import Outcome
from apps.runs.engine.reaper import reap_once
from apps.runs.engine.runner import run_conclude, run_execute, run_outcome_record
from apps.runs.events import events_key
from apps.runs.models import Run
from apps.tenancy.scope import tenant_scope
from apps.threads.models import Thread
from apps.threads.services import thread_delete
from tests.conftest import TenantWithKey
from tests.engine_support import Event, new_thread, read_events, run_row, start_run, thread_row

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Task sends, captured instead of reaching a worker."""
    calls: list[list[str]] = []
    monkeypatch.setattr(
        dispatch.app, "send_task", lambda name, args, countdown=None: calls.append(args)
    )
    return calls


def _claim(tenant: TenantWithKey, run: Run, worker: str = "w1") -> tuple[Run, str] | None:
    with tenant_scope(tenant.tenant):
        return run_claim(run_id=run.run_id, worker=worker)


def _stream(run: Run) -> list[Event]:
    entries = sync_redis().xrange(events_key(run.run_id))
    return [Event(id=i.decode(), event=f[b"e"].decode(), data=f[b"d"]) for i, f in entries]


def test_a_run_is_claimed_once(live_alice: TenantWithKey, sent: list[Any]) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    assert sent == [[str(run.run_id), str(live_alice.tenant.pk)]]
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def claim(name: str) -> None:
        barrier.wait()
        try:
            results.append(_claim(live_alice, run, worker=name))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    claimed, token = winners[0]
    assert (claimed.status, claimed.attempt, claimed.lease_token) == ("running", 1, token)
    assert claimed.lease_expires_at > timezone.now()
    assert claimed.started_at is not None


def test_runs_of_a_thread_are_claimed_in_creation_order(
    live_alice: TenantWithKey, sent: list[Any]
) -> None:
    thread = new_thread(live_alice.tenant)
    first = start_run(live_alice.tenant, "burst", thread=thread)
    second = start_run(live_alice.tenant, "burst", thread=thread)
    assert _claim(live_alice, second) is None  # an earlier run is pending
    assert _claim(live_alice, first) is not None
    assert _claim(live_alice, second) is None  # an earlier run is running
    other = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    assert _claim(live_alice, other) is not None  # other threads are independent


def test_a_stale_attempt_cannot_write(live_alice: TenantWithKey, sent: list[Any]) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    _, stale = _claim(live_alice, run)
    with tenant_scope(live_alice.tenant):
        # The reaper gave the run to a new attempt.
        Run.objects.filter(pk=run.pk).update(status="pending", lease_token=None)
    claimed, fresh = _claim(live_alice, run)
    assert claimed.attempt == 2
    with tenant_scope(live_alice.tenant):
        assert lease_renew(run_id=run.run_id, token=stale) is Hold.LOST
        stale_outcome = Outcome(status=Run.Status.SUCCESS, values={"stale": True})
        recorded = run_outcome_record(run=claimed, lease_token=stale, outcome=stale_outcome)
        assert recorded is Hold.LOST
        run_conclude(run=claimed, lease_token=stale, outcome=stale_outcome)
        assert not run_events_archive(
            run_id=run.run_id, tenant_id=live_alice.tenant.pk, lease_token=stale
        )
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.output, row.events_archived) == ("running", None, False)
    assert _stream(run) == []  # no end from the stale attempt
    with tenant_scope(live_alice.tenant):
        assert lease_renew(run_id=run.run_id, token=fresh) is Hold.HELD
        run_conclude(run=claimed, lease_token=fresh, outcome=Outcome(status=Run.Status.SUCCESS))
    assert [e.event for e in _stream(run)] == ["end"]
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.events_archived) == ("success", True)


def _expire(tenant: TenantWithKey, run: Run, **fields: Any) -> None:
    with tenant_scope(tenant.tenant):
        Run.objects.filter(pk=run.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1), **fields
        )


def test_reaper_retries_a_run_whose_lease_expired(
    live_alice: TenantWithKey, sent: list[Any]
) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    _claim(live_alice, run)
    _expire(live_alice, run)
    sent.clear()
    reap_once()
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.lease_token, row.attempt) == ("pending", None, 1)
    assert sent == [[str(run.run_id), str(live_alice.tenant.pk)]]
    (announce,) = _stream(run)
    assert announce.event == "metadata"
    assert announce.data == b'{"run_id":"%s","attempt":2}' % str(run.run_id).encode()
    reap_once()  # nothing left to do
    assert len(sent) == 1
    claimed, _ = _claim(live_alice, run)
    assert claimed.attempt == 2


def test_reaper_fails_a_run_out_of_attempts(
    live_alice: TenantWithKey, sent: list[Any], settings: Any
) -> None:
    settings.AGENTHOST_RUN_MAX_ATTEMPTS = 1
    thread = new_thread(live_alice.tenant)
    run = start_run(live_alice.tenant, "burst", thread=thread)
    _claim(live_alice, run)
    _expire(live_alice, run)
    reap_once()
    events = _stream(run)
    assert [e.event for e in events] == ["error", "end"]
    assert b'"error":"WorkerLost"' in events[0].data
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.error["error"], row.events_archived) == ("error", "WorkerLost", True)
    assert thread_row(live_alice.tenant, thread.thread_id).status == "error"


def test_reaper_leaves_a_renewed_lease_alone(live_alice: TenantWithKey, sent: list[Any]) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    _claim(live_alice, run)
    reap_once()
    assert run_row(live_alice.tenant, run.run_id).status == "running"


def test_reaper_resends_a_lost_pending_task_once(
    live_alice: TenantWithKey, sent: list[Any], settings: Any
) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    waiting = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    long_ago = timezone.now() - timedelta(seconds=10 * settings.AGENTHOST_RUN_LEASE_SECONDS)
    with tenant_scope(live_alice.tenant):
        Run.objects.filter(pk=run.pk).update(updated_at=long_ago, created_at=long_ago)
    sent.clear()
    reap_once()
    reap_once()
    assert sent == [[str(run.run_id), str(live_alice.tenant.pk)]]
    assert run_row(live_alice.tenant, waiting.run_id).status == "pending"


def test_reaper_times_out_a_run_past_its_limit(
    live_alice: TenantWithKey, sent: list[Any], settings: Any
) -> None:
    run = start_run(live_alice.tenant, "burst", thread=new_thread(live_alice.tenant))
    _claim(live_alice, run)
    limit = settings.AGENTHOST_RUN_TIMEOUT_SECONDS + 2 * settings.AGENTHOST_RUN_LEASE_SECONDS
    with tenant_scope(live_alice.tenant):
        Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(seconds=limit))
    reap_once()
    assert [e.event for e in _stream(run)] == ["error", "end"]
    assert run_row(live_alice.tenant, run.run_id).status == "timeout"


def test_executor_ends_a_run_at_its_time_limit(
    live_alice: TenantWithKey, sent: list[Any], settings: Any
) -> None:
    settings.AGENTHOST_RUN_TIMEOUT_SECONDS = 0.5
    run = start_run(
        live_alice.tenant, "slow", thread=new_thread(live_alice.tenant), input={"k": 1, "delay": 30}
    )
    with tenant_scope(live_alice.tenant):
        run_execute(run_id=str(run.run_id), worker="here")
    events = read_events(run.run_id)
    assert [e.event for e in events] == ["metadata", "values", "error", "end"]
    assert events[2].data == {
        "error": "TimeoutError",
        "message": "Run exceeded its time limit of 0.5 s",
    }
    assert events[3].data["status"] == "timeout"
    assert run_row(live_alice.tenant, run.run_id).status == "timeout"


def test_executor_stops_silently_when_its_lease_is_taken(
    live_alice: TenantWithKey, sent: list[Any], settings: Any
) -> None:
    settings.AGENTHOST_RUN_LEASE_SECONDS = 0.3
    run = start_run(
        live_alice.tenant,
        "slow",
        thread=new_thread(live_alice.tenant),
        input={"k": 100, "delay": 0.05},
        stream_mode=["custom"],
    )
    executing = threading.Thread(target=lambda: _execute_in_scope(live_alice, run), name="executor")
    executing.start()
    read_events(run.run_id, until="custom")
    with tenant_scope(live_alice.tenant):
        Run.objects.filter(pk=run.pk).update(lease_token="taken-by-another-attempt")
    executing.join(timeout=5)
    assert not executing.is_alive()
    assert "end" not in {e.event for e in _stream(run)}
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.lease_token) == ("running", "taken-by-another-attempt")


def _execute_in_scope(tenant: TenantWithKey, run: Run) -> None:
    try:
        with tenant_scope(tenant.tenant):
            run_execute(run_id=str(run.run_id), worker="here")
    finally:
        connection.close()


def test_executor_ends_the_stream_of_a_run_deleted_while_running(
    live_alice: TenantWithKey, sent: list[Any], settings: Any
) -> None:
    settings.AGENTHOST_RUN_LEASE_SECONDS = 0.3
    thread = new_thread(live_alice.tenant)
    run = start_run(
        live_alice.tenant,
        "slow",
        thread=thread,
        input={"k": 100, "delay": 0.05},
        stream_mode=["custom"],
    )
    executing = threading.Thread(target=lambda: _execute_in_scope(live_alice, run))
    executing.start()
    read_events(run.run_id, until="custom")
    with tenant_scope(live_alice.tenant):
        thread_delete(thread=Thread.objects.get(pk=thread.pk))
    events = read_events(run.run_id)
    executing.join(timeout=5)
    assert not executing.is_alive()
    assert events[-1].data == {"run_id": str(run.run_id), "status": "interrupted"}
