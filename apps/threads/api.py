"""Threads: create, read, update, delete, search and count (LangGraph-compatible)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.errors import HttpError

from apps.common.search import shaped
from apps.threads.schemas import (
    ThreadCountIn,
    ThreadCreateIn,
    ThreadOut,
    ThreadPatchIn,
    ThreadSearchIn,
)
from apps.threads.selectors import thread_count, thread_get, thread_search
from apps.threads.services import ThreadExists, thread_create, thread_delete, thread_update

router = Router(tags=["threads"])


@router.post("", response=ThreadOut)
def create_thread(request: HttpRequest, payload: ThreadCreateIn) -> Any:
    try:
        return thread_create(
            thread_id=payload.thread_id, metadata=payload.metadata, if_exists=payload.if_exists
        )
    except ThreadExists as exc:
        raise HttpError(409, str(exc)) from None


@router.post("/search", response=list[dict[str, Any]])
def search_threads(request: HttpRequest, payload: ThreadSearchIn, response: HttpResponse) -> Any:
    page = thread_search(
        metadata=payload.metadata,
        values=payload.values,
        status=payload.status,
        ids=payload.ids,
        sort_by=payload.sort_by,
        sort_order=payload.sort_order,
        limit=payload.limit,
        offset=payload.offset,
    )
    if page.next_offset is not None:
        response["X-Pagination-Next"] = str(page.next_offset)
    return shaped(ThreadOut, page.items, payload.select)


@router.post("/count", response=int)
def count_threads(request: HttpRequest, payload: ThreadCountIn) -> int:
    return thread_count(metadata=payload.metadata, values=payload.values, status=payload.status)


@router.get("/{thread_id}", response=ThreadOut)
def get_thread(request: HttpRequest, thread_id: str) -> Any:
    return thread_get(thread_id=thread_id)


@router.patch("/{thread_id}", response={200: ThreadOut, 204: None})
def patch_thread(request: HttpRequest, thread_id: str, payload: ThreadPatchIn) -> Any:
    thread = thread_update(thread=thread_get(thread_id=thread_id), metadata=payload.metadata)
    # The SDK's `update(..., return_minimal=True)` asks for no body.
    if "return=minimal" in request.headers.get("Prefer", ""):
        return Status(204, None)
    return thread


@router.delete("/{thread_id}", response={204: None})
def delete_thread(request: HttpRequest, thread_id: str) -> None:
    thread_delete(thread=thread_get(thread_id=thread_id))
