from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from apps.common.search import Page, SortOrder, json_contains, ordered, page_of
from apps.threads.models import Thread


def thread_get(*, thread_id: uuid.UUID | str) -> Thread:
    """The scoped tenant's thread; a missing one and another tenant's look the same."""
    try:
        return Thread.objects.get(thread_id=uuid.UUID(str(thread_id)))
    except (ValueError, Thread.DoesNotExist):
        raise Http404("Thread not found.") from None


def _threads_matching(
    *,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status: str | None = None,
    ids: list[uuid.UUID] | None = None,
) -> QuerySet[Thread]:
    threads = Thread.objects.all()
    threads = json_contains(threads, field="metadata", value=metadata)
    threads = json_contains(threads, field="values", value=values)
    if status is not None:
        threads = threads.filter(status=status)
    if ids is not None:
        threads = threads.filter(thread_id__in=ids)
    return threads


def thread_search(
    *,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status: str | None = None,
    ids: list[uuid.UUID] | None = None,
    sort_by: str = "created_at",
    sort_order: SortOrder = "desc",
    limit: int = 10,
    offset: int = 0,
) -> Page[Thread]:
    threads = _threads_matching(metadata=metadata, values=values, status=status, ids=ids)
    threads = ordered(threads, sort_by=sort_by, sort_order=sort_order, tie_breaker="thread_id")
    return page_of(threads, limit=limit, offset=offset)


def thread_count(
    *,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status: str | None = None,
) -> int:
    return _threads_matching(metadata=metadata, values=values, status=status).count()
