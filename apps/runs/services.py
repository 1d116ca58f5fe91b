"""Writes on runs: create (with the multitask strategy), cancel, delete, final output.

All of them act inside a tenant scope. The worker's side (claim, execute, record) is in
``apps.runs.engine``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from agenthost.redis import sync_redis
from apps.assistants.models import Assistant
from apps.runs.engine.archive import ARCHIVED_STREAM_TTL_SECONDS, run_events_archive
from apps.runs.engine.cancel import cancel_request
from apps.runs.engine.dispatch import run_dispatch, thread_next_run_dispatch
from apps.runs.engine.publisher import stream_end, stream_expire
from apps.runs.events import events_key
from apps.runs.models import Run
from apps.runs.schemas import RunCreate
from apps.threads.models import Thread
from apps.threads.services import thread_create

IN_FLIGHT = (Run.Status.PENDING, Run.Status.RUNNING)


class ThreadBusy(Exception):
    """The thread has a run in flight and the new run's strategy is ``reject``."""


class RunNotCancellable(Exception):
    """Only pending and running runs can be cancelled."""


def _run_kwargs(payload: RunCreate, *, stateless: bool) -> dict[str, Any]:
    """The creation request as LangGraph Platform shows it in ``Run.kwargs``."""
    checkpoint = payload.checkpoint or {}
    on_completion = payload.on_completion or ("delete" if stateless else "keep")
    return {
        "input": payload.input,
        "command": payload.command.model_dump(exclude_none=True) if payload.command else None,
        "config": payload.config or {},
        "context": payload.context or {},
        "stream_mode": list(payload.stream_mode),
        "stream_subgraphs": payload.stream_subgraphs,
        "stream_resumable": payload.stream_resumable,
        "interrupt_before": payload.interrupt_before,
        "interrupt_after": payload.interrupt_after,
        "checkpoint_id": payload.checkpoint_id or checkpoint.get("checkpoint_id"),
        "checkpoint": payload.checkpoint,
        "on_disconnect": payload.on_disconnect,
        "on_completion": on_completion,
        "webhook": payload.webhook,
        "feedback_keys": payload.feedback_keys,
        "after_seconds": payload.after_seconds,
        "durability": payload.durability,
        "checkpoint_during": payload.checkpoint_during,
        "temporary": stateless and on_completion == "delete",
        "resumable": True,
    }


def run_create(
    *,
    assistant: Assistant,
    thread: Thread | None,
    payload: RunCreate,
    stateless: bool = False,
) -> Run:
    """Store a pending run and enqueue it once the transaction commits.

    Without a thread the run gets a temporary one (a stateless run). Against runs
    already in flight on the thread, ``multitask_strategy`` decides: ``reject`` raises
    ThreadBusy, ``interrupt`` and ``rollback`` cancel them with that action first,
    ``enqueue`` queues the run behind them (a thread runs one run at a time).
    """
    graph_tags = {"graph_id": assistant.graph_id, "assistant_id": str(assistant.assistant_id)}
    with transaction.atomic():
        if thread is None:
            thread = thread_create(metadata=graph_tags)
            stateless = True
        else:
            thread = Thread.objects.select_for_update().get(pk=thread.pk)
        in_flight = list(Run.objects.filter(thread=thread, status__in=IN_FLIGHT))
        strategy = payload.multitask_strategy
        if in_flight and strategy == "reject":
            raise ThreadBusy
        if strategy in ("interrupt", "rollback"):
            for other in in_flight:
                _cancel(other, action=strategy)
        run = Run.objects.create(
            thread=thread,
            assistant=assistant,
            graph_id=assistant.graph_id,
            stateless=stateless,
            metadata=payload.metadata or {},
            kwargs=_run_kwargs(payload, stateless=stateless),
            multitask_strategy=strategy,
        )
        thread.status = Thread.Status.BUSY
        thread.metadata = {**thread.metadata, **graph_tags}
        thread.save(update_fields=["status", "metadata", "updated_at"])
        run_dispatch(run=run)
    return run


def _end_pending(run: Run, action: str) -> None:
    """After a pending run's cancel commits: end its stream, archive or delete it."""
    stream_end(run.run_id, Run.Status.INTERRUPTED)
    if action == "rollback":
        Run.objects.filter(pk=run.pk).delete()
        stream_expire(run.run_id, ARCHIVED_STREAM_TTL_SECONDS)
    else:
        run_events_archive(run_id=run.run_id, tenant_id=run.tenant_id, lease_token=None)


def _cancel(run: Run, *, action: str) -> None:
    """Cancel `run`, whose thread row the caller holds locked."""
    now = timezone.now()
    stopped = Run.objects.filter(pk=run.pk, status=Run.Status.PENDING).update(
        status=Run.Status.INTERRUPTED, cancel_action=action, ended_at=now, updated_at=now
    )
    if stopped:
        # The queued task finds the run no longer pending and does nothing.
        transaction.on_commit(lambda: _end_pending(run, action))
        return
    if Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
        cancel_action=action, updated_at=now
    ):
        # The worker's watcher sees this within its poll period and stops the graph.
        transaction.on_commit(lambda: cancel_request(run.run_id, action))
        return
    raise RunNotCancellable


def run_cancel(*, run: Run, action: str = "interrupt") -> None:
    """Cancel a pending run at once, or ask the worker to stop a running one.

    ``interrupt`` keeps what the run's completed steps checkpointed; ``rollback``
    deletes its checkpoints and then the run itself. Raises RunNotCancellable for a run
    that is neither pending nor running.
    """
    with transaction.atomic():
        thread = (
            Thread.objects.select_for_update().filter(pk=run.thread_id).first()
            if run.thread_id
            else None
        )
        _cancel(run, action=action)
        if thread is not None:
            in_flight = Run.objects.filter(thread=thread, status__in=IN_FLIGHT)
            if not in_flight.exists():
                thread.status = Thread.Status.IDLE
                thread.save(update_fields=["status", "updated_at"])
            else:
                # The cancelled run may have been the one the queue waited for.
                thread_next_run_dispatch(thread_id=thread.pk)


def run_delete(*, run: Run) -> None:
    """Delete the run, its archived events and its stream; a run in flight is
    cancelled first (its stream gets its ``end``)."""
    if run.status in IN_FLIGHT:
        try:
            run_cancel(run=run)
        except RunNotCancellable:
            pass
        else:
            if run.status == Run.Status.RUNNING:
                stream_end(run.run_id, Run.Status.INTERRUPTED)
    Run.objects.filter(pk=run.pk).delete()
    sync_redis().delete(events_key(run.run_id))


def run_final_output(*, run: Run) -> dict[str, Any]:
    """What ``/wait`` and ``/join`` answer once the run is over.

    The thread's values (with ``__interrupt__`` when the graph stopped at an
    interrupt), or ``{"__error__": {"error", "message"}}`` for a failed run.
    """
    if run.status in (Run.Status.ERROR, Run.Status.TIMEOUT):
        return {"__error__": run.error or {"error": "Error", "message": run.status}}
    return run.output if isinstance(run.output, dict) else {}
