from __future__ import annotations

import uuid
from typing import Any, Literal

from django.db import IntegrityError, transaction

from apps.runs.engine.checkpointer import open_sync_checkpointer
from apps.threads.models import Thread


class ThreadExists(ValueError):
    pass


def thread_create(
    *,
    thread_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
    if_exists: Literal["raise", "do_nothing"] = "raise",
) -> Thread:
    """Create a thread for the scoped tenant.

    An id taken by another tenant raises ThreadExists too (ids are global), but its
    thread is never returned.
    """
    if thread_id is not None:
        existing = Thread.objects.filter(thread_id=thread_id).first()
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise ThreadExists(f"Thread {thread_id} already exists.")
    try:
        with transaction.atomic():
            return Thread.objects.create(
                thread_id=thread_id or uuid.uuid4(), metadata=metadata or {}
            )
    except IntegrityError:
        raise ThreadExists(f"Thread {thread_id} already exists.") from None


def thread_update(*, thread: Thread, metadata: dict[str, Any] | None = None) -> Thread:
    """Merge `metadata` into the thread's metadata (keys given replace keys stored)."""
    if metadata:
        thread.metadata = {**thread.metadata, **metadata}
    # Saved even without changes: a PATCH touches updated_at, as on LangGraph Platform.
    thread.save(update_fields=["metadata", "updated_at"])
    return thread


def thread_checkpoints_delete(*, thread_id: uuid.UUID) -> None:
    """Delete every checkpoint the run engine's checkpointer keeps for the thread."""
    with open_sync_checkpointer() as saver:
        saver.delete_thread(str(thread_id))


def thread_delete(*, thread: Thread) -> None:
    """Delete the thread, its runs (and their archived events) and its checkpoints."""
    thread_id = thread.thread_id
    thread.delete()
    thread_checkpoints_delete(thread_id=thread_id)
