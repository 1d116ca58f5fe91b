"""One attempt of a run, from claim to archive (called by the Celery task).

Order matters to clients: the outcome is written to the Run and Thread rows *before*
the ``end`` event, so whoever sees ``end`` and then reads the database sees the
outcome; ``end`` is written from ``finally``, so a reader is never left waiting by a
failure after the claim. Everything after the claim is conditional on the attempt's
lease token: an attempt the reaper has replaced records nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.runs.engine.archive import ARCHIVED_STREAM_TTL_SECONDS, run_events_archive
from apps.runs.engine.cancel import cancel_request_clear
from apps.runs.engine.dispatch import thread_next_run_dispatch
from apps.runs.engine.executor import Attempt, execute
from apps.runs.engine.lease import Hold, run_claim, run_hold
from apps.runs.engine.outcome import Outcome
from apps.runs.engine.publisher import stream_append, stream_end, stream_expire
from apps.runs.engine.request import graph_request
from apps.runs.engine.serde import dumps
from apps.runs.engine.webhook import webhook_dispatch
from apps.runs.events import METADATA_EVENT
from apps.runs.models import Run
from apps.threads.models import Thread
from apps.threads.services import thread_delete

logger = logging.getLogger(__name__)


def run_execute(*, run_id: str, worker: str) -> None:
    """Claim the run and execute one attempt; a run not claimable is left alone."""
    claimed = run_claim(run_id=run_id, worker=worker)
    if claimed is None:
        return
    run, token = claimed
    outcome: Outcome | None = None
    try:
        if run.attempt == 1:  # the reaper announces later attempts
            # Straight after the claim, on the process's connection: the first event
            # does not wait for the event loop, the graph or the checkpointer.
            metadata = {"run_id": str(run.run_id), "attempt": run.attempt}
            stream_append(run.run_id, [(METADATA_EVENT, dumps(metadata))])
        elapsed = (timezone.now() - run.started_at).total_seconds() if run.started_at else 0.0
        attempt = Attempt(
            run_id=run.run_id,
            thread_id=run.thread_id,
            graph_id=run.graph_id,
            attempt=run.attempt,
            lease_token=token,
            time_left=settings.AGENTHOST_RUN_TIMEOUT_SECONDS - elapsed,
            request=graph_request(run=run, assistant=run.assistant),
        )
        outcome = asyncio.run(execute(attempt))
    except Exception as exc:
        logger.exception("run %s: the executor failed", run.run_id)
        outcome = Outcome.failed(exc)
    finally:
        run_conclude(
            run=run,
            lease_token=token,
            outcome=outcome or Outcome.failed(RuntimeError("The worker stopped the run")),
        )


def _thread_status(outcome: Outcome) -> Thread.Status:
    if outcome.status in (Run.Status.ERROR, Run.Status.TIMEOUT):
        return Thread.Status.ERROR
    if outcome.status == Run.Status.INTERRUPTED and not outcome.rolled_back:
        return Thread.Status.INTERRUPTED
    if outcome.next or outcome.interrupts:
        return Thread.Status.INTERRUPTED
    return Thread.Status.IDLE


def run_outcome_record(
    *, run: Run, lease_token: str, outcome: Outcome, expired_before: datetime | None = None
) -> Hold:
    """Write the outcome to the Run and its Thread, if the attempt still holds the run.

    `expired_before` additionally requires the lease to have expired by then (the
    reaper's condition), so a lease renewed meanwhile wins.
    """
    now = timezone.now()
    with transaction.atomic():
        thread = Thread.objects.select_for_update().filter(pk=run.thread_id).first()
        current = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, lease_token=lease_token)
        if expired_before is not None:
            current = current.filter(lease_expires_at__lt=expired_before)
        recorded = current.update(
            status=outcome.status,
            output=outcome.output,
            error=outcome.error,
            ended_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
        if not recorded:
            return run_hold(run_id=run.pk)
        if thread is not None:
            queued = Run.objects.filter(thread=thread, status=Run.Status.PENDING).exists()
            thread.status = Thread.Status.BUSY if queued else _thread_status(outcome)
            if outcome.values is not None:
                thread.values = outcome.values
                thread.interrupts = outcome.interrupts_by_task
            thread.error = outcome.error
            thread.state_updated_at = now
            thread.save(
                update_fields=[
                    "status",
                    "values",
                    "interrupts",
                    "error",
                    "state_updated_at",
                    "updated_at",
                ]
            )
    return Hold.HELD


def _temporary_thread_delete(run: Run) -> None:
    """A stateless run's thread goes once the run is over; the run stays, threadless."""
    Run.objects.filter(pk=run.pk).update(thread=None)
    thread = Thread.objects.filter(pk=run.thread_id).first()
    if thread is not None:
        thread_delete(thread=thread)


def run_conclude(
    *, run: Run, lease_token: str, outcome: Outcome, expired_before: datetime | None = None
) -> None:
    """Record the outcome, end the stream, archive it, send the webhook, and start the
    thread's next run."""
    if outcome.lease_lost:
        return
    hold = Hold.GONE
    if not outcome.run_gone:
        try:
            hold = run_outcome_record(
                run=run, lease_token=lease_token, outcome=outcome, expired_before=expired_before
            )
        except Exception:
            # Readers must still see the end; the reaper settles the row later.
            logger.exception("run %s: cannot record the outcome", run.run_id)
            hold = Hold.HELD
    if hold is Hold.LOST:
        logger.info("run %s: attempt superseded, nothing recorded", run.run_id)
        return
    if hold is Hold.GONE:
        # Deleted while it ran: end its stream for whoever still reads it.
        stream_end(run.run_id, outcome.status, outcome.error)
        return
    cancel_request_clear(run.run_id)
    temporary = run.stateless and run.kwargs.get("on_completion", "delete") == "delete"
    try:
        if temporary:
            _temporary_thread_delete(run)
    finally:
        stream_end(run.run_id, outcome.status, outcome.error)
    if outcome.rolled_back:
        # As on LangGraph Platform, a rolled-back run disappears (after its end event).
        Run.objects.filter(pk=run.pk, lease_token=lease_token).delete()
        stream_expire(run.run_id, ARCHIVED_STREAM_TTL_SECONDS)
    else:
        run_events_archive(run_id=run.run_id, tenant_id=run.tenant_id, lease_token=lease_token)
        if run.kwargs.get("webhook"):
            ended = Run.objects.filter(pk=run.pk).first()
            if ended is not None:
                webhook_dispatch(run=ended)
    if not temporary and run.thread_id is not None:
        thread_next_run_dispatch(thread_id=run.thread_id)
