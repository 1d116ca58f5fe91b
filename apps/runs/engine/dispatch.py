"""Handing runs to the workers: the Celery task is sent once the transaction commits.

The task is sent by name, so the services that enqueue need not import the task
module (which imports the engine).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from agenthost.celery import app
from apps.runs.models import Run

EXECUTE_TASK = "agenthost.runs.execute"


def _countdown(run: Run) -> float | None:
    delay = run.kwargs.get("after_seconds")
    if not delay:
        return None
    due = run.created_at + timedelta(seconds=float(delay))
    remaining = (due - timezone.now()).total_seconds()
    return remaining if remaining > 0 else None


def run_dispatch(*, run: Run) -> None:
    """Enqueue the run's task after commit (delayed by the run's ``after_seconds``)."""
    args = [str(run.run_id), str(run.tenant_id)]
    countdown = _countdown(run)
    transaction.on_commit(lambda: app.send_task(EXECUTE_TASK, args=args, countdown=countdown))


def thread_next_run_dispatch(*, thread_id: UUID) -> None:
    """Enqueue the thread's oldest pending run, unless one of its runs is running."""
    runs = Run.objects.filter(thread_id=thread_id)
    if runs.filter(status=Run.Status.RUNNING).exists():
        return
    queued = runs.filter(status=Run.Status.PENDING).order_by("created_at").first()
    if queued is not None:
        run_dispatch(run=queued)
