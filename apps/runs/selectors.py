from __future__ import annotations

import uuid

from django.db.models import Q
from django.http import Http404

from apps.runs.events import StreamEvent
from apps.runs.hub import stream_id
from apps.runs.models import Run, RunEvent
from apps.threads.models import Thread

RUN_NOT_FOUND = "Run not found."


def run_get(*, run_id: uuid.UUID | str, thread_id: uuid.UUID | str | None = None) -> Run:
    """The scoped tenant's run, on `thread_id` when given.

    A missing run, one on another thread and another tenant's all raise the same 404.
    """
    runs = Run.objects.all()
    try:
        if thread_id is not None:
            runs = runs.filter(thread_id=uuid.UUID(str(thread_id)))
        return runs.get(run_id=uuid.UUID(str(run_id)))
    except (ValueError, Run.DoesNotExist):
        raise Http404(RUN_NOT_FOUND) from None


def run_list(
    *, thread: Thread, limit: int = 10, offset: int = 0, status: str | None = None
) -> list[Run]:
    """A thread's runs, newest first."""
    runs = Run.objects.filter(thread=thread)
    if status is not None:
        runs = runs.filter(status=status)
    return list(runs.order_by("-created_at", "-run_id")[offset : offset + limit])


def runs_in_flight(
    *,
    thread_id: uuid.UUID | None = None,
    run_ids: list[uuid.UUID] | None = None,
    status: str | None = None,
) -> list[Run]:
    """Pending or running runs: on a thread (optionally only `run_ids`), or by `status`
    (``pending``, ``running`` or ``all``) across the tenant."""
    statuses = {
        "pending": [Run.Status.PENDING],
        "running": [Run.Status.RUNNING],
    }.get(status or "all", [Run.Status.PENDING, Run.Status.RUNNING])
    runs = Run.objects.filter(status__in=statuses)
    if thread_id is not None:
        runs = runs.filter(thread_id=thread_id)
    if run_ids is not None:
        runs = runs.filter(run_id__in=run_ids)
    return list(runs)


def run_events_after(*, run: Run, after: str) -> list[StreamEvent]:
    """The run's archived events strictly after the stream id `after`, in order."""
    ms, seq = stream_id(after)
    rows = (
        RunEvent.objects.filter(run=run)
        .filter(Q(ms__gt=ms) | Q(ms=ms, seq__gt=seq))
        .order_by("ms", "seq")
        .values_list("ms", "seq", "event", "data")
    )
    return [
        StreamEvent(id=f"{row_ms}-{row_seq}", event=event, data=data.encode())
        for row_ms, row_seq, event, data in rows
    ]
