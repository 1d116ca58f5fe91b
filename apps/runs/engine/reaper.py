"""The reaper: settles runs whose worker died, and re-sends tasks that were lost.

Every worker process runs one, in a daemon thread, every
``AGENTHOST_REAPER_INTERVAL_SECONDS``. Any number may run at once: each action is a
conditional update on the state the reaper read, so only one of them acts on a run.

- A ``running`` run whose lease expired lost its worker. Below
  ``AGENTHOST_RUN_MAX_ATTEMPTS`` it goes back to ``pending`` (a ``metadata`` event
  announces the next attempt, which resumes from the run's last checkpoint); otherwise
  it ends ``error`` (``WorkerLost``) with its ``error`` and ``end`` events.
- A ``running`` run past ``AGENTHOST_RUN_TIMEOUT_SECONDS`` (plus a lease period, the
  executor's own deadline having passed) ends ``timeout``.
- A ``pending`` run that has waited several lease periods with nothing running on its
  thread has lost its task (a broker restart, say): its task is sent again; claiming
  is exactly-once, so a duplicate is harmless.

It reads across tenants (it acts on ids it found) and acts inside each run's tenant
scope.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.runs.engine.dispatch import run_dispatch
from apps.runs.engine.outcome import Outcome
from apps.runs.engine.publisher import stream_append
from apps.runs.engine.runner import run_conclude
from apps.runs.engine.serde import dumps
from apps.runs.events import METADATA_EVENT
from apps.runs.models import Run
from apps.tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# Runs handled per kind and pass; the next pass takes the rest.
_PASS_LIMIT = 100
# Lease periods a pending run may wait, with its thread free, before its task counts as lost.
_LOST_TASK_LEASES = 3

_stop = threading.Event()


def _lease() -> timedelta:
    return timedelta(seconds=settings.AGENTHOST_RUN_LEASE_SECONDS)


def run_lease_expired(*, run: Run, now: datetime) -> None:
    """Retry or fail a running run whose lease expired before `now`."""
    if run.attempt < settings.AGENTHOST_RUN_MAX_ATTEMPTS:
        with transaction.atomic():
            requeued = Run.objects.filter(
                pk=run.pk,
                status=Run.Status.RUNNING,
                lease_token=run.lease_token,
                lease_expires_at__lt=now,
            ).update(
                status=Run.Status.PENDING,
                lease_token=None,
                lease_expires_at=None,
                worker="",
                updated_at=now,
            )
            if not requeued:
                return
            logger.warning("run %s: worker lost, retrying (attempt %s)", run.pk, run.attempt + 1)
            metadata = {"run_id": str(run.run_id), "attempt": run.attempt + 1}
            stream_append(run.run_id, [(METADATA_EVENT, dumps(metadata))])
            run_dispatch(run=run)
        return
    logger.warning("run %s: worker lost after %s attempts, failing it", run.pk, run.attempt)
    error = {"error": "WorkerLost", "message": "The worker running the run stopped."}
    run_conclude(
        run=run,
        lease_token=run.lease_token or "",
        outcome=Outcome(status=Run.Status.ERROR, error=error),
        expired_before=now,
    )


def run_timed_out(*, run: Run, now: datetime) -> None:
    limit = settings.AGENTHOST_RUN_TIMEOUT_SECONDS
    run_conclude(
        run=run,
        lease_token=run.lease_token or "",
        outcome=Outcome.failed(
            TimeoutError(f"Run exceeded its time limit of {limit:g} s"), Run.Status.TIMEOUT
        ),
    )


def run_task_resend(*, run: Run, now: datetime) -> None:
    """Send a waiting run's task again, if no reaper did since it was read."""
    with transaction.atomic():
        if Run.objects.filter(
            pk=run.pk, status=Run.Status.PENDING, updated_at=run.updated_at
        ).update(updated_at=now):
            logger.warning("run %s: its task looks lost, sending it again", run.pk)
            run_dispatch(run=run)


def _each_in_scope(runs: list[Run], action: Callable[..., None], now: datetime) -> None:
    for run in runs:
        try:
            with tenant_scope(run.tenant):
                action(run=run, now=now)
        except Exception:
            logger.exception("reaper: cannot settle run %s", run.pk)


def reap_once(now: datetime | None = None) -> None:
    now = now or timezone.now()
    running = Run.unscoped_all_tenants.filter(status=Run.Status.RUNNING).select_related("tenant")
    _each_in_scope(
        list(running.filter(lease_expires_at__lt=now)[:_PASS_LIMIT]), run_lease_expired, now
    )
    deadline = now - timedelta(seconds=settings.AGENTHOST_RUN_TIMEOUT_SECONDS) - _lease()
    _each_in_scope(list(running.filter(started_at__lt=deadline)[:_PASS_LIMIT]), run_timed_out, now)
    _each_in_scope(_lost_tasks(now), run_task_resend, now)


def _lost_tasks(now: datetime) -> list[Run]:
    """The oldest pending run of each thread where nothing runs, if it waited too long."""
    waited = now - _LOST_TASK_LEASES * _lease()
    candidates = (
        Run.unscoped_all_tenants.filter(status=Run.Status.PENDING, updated_at__lt=waited)
        .select_related("tenant")
        .order_by("created_at")[:_PASS_LIMIT]
    )
    chosen: dict[object, Run] = {}
    for run in candidates:
        delay = timedelta(seconds=float(run.kwargs.get("after_seconds") or 0))
        if run.created_at + delay > waited or run.thread_id in chosen:
            continue
        busy = Run.unscoped_all_tenants.filter(
            thread_id=run.thread_id, status=Run.Status.RUNNING
        ).exists()
        if not busy:
            chosen[run.thread_id] = run
    return list(chosen.values())


def _reap_forever(interval: float) -> None:
    while not _stop.wait(interval):
        try:
            reap_once()
        except Exception:
            logger.exception("reaper pass failed")
        finally:
            connection.close()


def reaper_start() -> threading.Thread:
    """Start this process's reaper thread."""
    _stop.clear()
    thread = threading.Thread(
        target=_reap_forever,
        args=(settings.AGENTHOST_REAPER_INTERVAL_SECONDS,),
        name="agenthost-reaper",
        daemon=True,
    )
    thread.start()
    return thread


def reaper_stop() -> None:
    _stop.set()
