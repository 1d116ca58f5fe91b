"""A worker process killed mid-run: another worker's reaper retries the run or ends it.

Both workers here consume a queue of their own, so the session's worker never takes
the run; the short lease lets the second worker's reaper see the loss at once.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from apps.runs.engine import dispatch
from apps.runs.models import Run
from apps.tenancy.scope import tenant_scope
from tests.conftest import TenantWithKey
from tests.engine_support import customs, new_thread, read_events, run_row, start_run, thread_row
from tests.live import running_worker

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue only this test's workers consume; runs started here are sent to it."""
    name = f"engine-loss-{uuid.uuid4().hex[:8]}"
    send = dispatch.app.send_task

    def send_to_queue(task: str, args: Any, countdown: float | None = None) -> Any:
        return send(task, args=args, countdown=countdown, queue=name)

    monkeypatch.setattr(dispatch.app, "send_task", send_to_queue)
    return name


def _env(queue: str) -> dict[str, str]:
    return {
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "AGENTHOST_RUN_LEASE_SECONDS": "1",
        "AGENTHOST_REAPER_INTERVAL_SECONDS": "0.2",
    }


def _start_and_kill_its_worker(tenant: TenantWithKey, queue: str, *, k: int) -> Run:
    with running_worker(concurrency=1, **_env(queue)) as doomed:
        run = start_run(
            tenant.tenant,
            "slow",
            thread=new_thread(tenant.tenant),
            input={"k": k, "delay": 0.1},
            stream_mode=["custom"],
        )
        read_events(run.run_id, until=lambda events: len(customs(events)) == 3)
        os.killpg(doomed.popen.pid, signal.SIGKILL)
        doomed.popen.wait(5)
    return run


def test_a_killed_workers_run_is_retried_from_its_checkpoint(
    live_alice: TenantWithKey, queue: str
) -> None:
    run = _start_and_kill_its_worker(live_alice, queue, k=8)
    with running_worker(concurrency=1, **_env(queue)):
        events = read_events(run.run_id, timeout=30)
    metadata = [e.data["attempt"] for e in events if e.event == "metadata"]
    assert metadata == [1, 2]
    assert events[-1].data == {"run_id": str(run.run_id), "status": "success"}
    retry = [e.event for e in events].index("metadata", 1)
    before = [c["step"] for c in customs(events[:retry])]
    after = [c["step"] for c in customs(events[retry:])]
    assert before[:3] == [0, 1, 2]
    # The retry resumed from the last checkpoint: at most the step in flight ran twice.
    assert after == list(range(after[0], 8))
    assert after[0] >= len(before) - 1
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.attempt) == ("success", 2)
    assert thread_row(live_alice.tenant, row.thread_id).values["step"] == 8


def test_a_killed_workers_run_out_of_attempts_ends_in_error(
    live_alice: TenantWithKey, queue: str, settings: Any
) -> None:
    run = _start_and_kill_its_worker(live_alice, queue, k=50)
    with tenant_scope(live_alice.tenant):
        # As if this were already the last attempt allowed.
        Run.objects.filter(pk=run.pk).update(attempt=settings.AGENTHOST_RUN_MAX_ATTEMPTS)
    with running_worker(concurrency=1, **_env(queue)):
        events = read_events(run.run_id, timeout=30)
    assert [e.event for e in events[-2:]] == ["error", "end"]
    assert events[-2].data["error"] == "WorkerLost"
    assert events[-1].data["status"] == "error"
    row = run_row(live_alice.tenant, run.run_id)
    assert (row.status, row.error["error"]) == ("error", "WorkerLost")
    assert thread_row(live_alice.tenant, row.thread_id).status == "error"
