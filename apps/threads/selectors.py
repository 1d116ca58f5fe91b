from __future__ import annotations

import uuid

from django.http import Http404

from apps.threads.models import Thread


def thread_get(*, thread_id: uuid.UUID | str) -> Thread:
    """The scoped tenant's thread; a missing one and another tenant's look the same."""
    try:
        return Thread.objects.get(thread_id=uuid.UUID(str(thread_id)))
    except (ValueError, Thread.DoesNotExist):
        raise Http404("Thread not found.") from None
