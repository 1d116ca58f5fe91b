"""Request and response shapes of the threads API, as langgraph-sdk sends and reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from apps.common.schemas import RequestBody
from apps.common.search import SortOrder

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadField = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "status",
    "values",
    "interrupts",
    "error",
]
ThreadSortBy = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]


class ThreadCreateIn(RequestBody):
    thread_id: UUID | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadPatchIn(RequestBody):
    metadata: dict[str, Any] | None = None


class ThreadCountIn(RequestBody):
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: ThreadStatus | None = None


class ThreadSearchIn(ThreadCountIn):
    ids: list[UUID] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: ThreadSortBy = "created_at"
    sort_order: SortOrder = "desc"
    select: list[ThreadField] | None = None


class ThreadOut(Schema):
    thread_id: UUID
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime | None
    metadata: dict[str, Any]
    status: ThreadStatus
    values: Any
    interrupts: dict[str, Any]
    error: Any
