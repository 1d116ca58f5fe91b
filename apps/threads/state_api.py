"""Thread state and history (LangGraph-compatible): read, update, list checkpoints."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from apps.runs.services import ThreadBusy
from apps.threads.selectors import thread_get
from apps.threads.state import (
    ThreadWithoutGraph,
    thread_history_list,
    thread_state_get,
    thread_state_update,
)

router = Router(tags=["threads"])

State = dict[str, Any]


class StateQuery(Schema):
    subgraphs: bool = False


class StateAtCheckpointIn(Schema):
    checkpoint: dict[str, Any]
    subgraphs: bool = False


class StateUpdateIn(Schema):
    values: Any = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: dict[str, Any] | None = None


class HistoryIn(Schema):
    limit: int = Field(10, ge=1, le=1000)
    before: str | dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None


class HistoryQuery(Schema):
    limit: int = Field(10, ge=1, le=1000)
    before: str | None = None


@router.get("/{thread_id}/state", response=State)
def get_state(request: HttpRequest, thread_id: str, query: Query[StateQuery]) -> State:
    return thread_state_get(thread=thread_get(thread_id=thread_id), subgraphs=query.subgraphs)


# Before /state/{checkpoint_id}, which would otherwise match this path first.
@router.post("/{thread_id}/state/checkpoint", response=State)
def post_state_at(request: HttpRequest, thread_id: str, payload: StateAtCheckpointIn) -> State:
    return thread_state_get(
        thread=thread_get(thread_id=thread_id),
        checkpoint=payload.checkpoint,
        subgraphs=payload.subgraphs,
    )


@router.get("/{thread_id}/state/{checkpoint_id}", response=State)
def get_state_at(
    request: HttpRequest, thread_id: str, checkpoint_id: str, query: Query[StateQuery]
) -> State:
    return thread_state_get(
        thread=thread_get(thread_id=thread_id),
        checkpoint={"checkpoint_id": checkpoint_id},
        subgraphs=query.subgraphs,
    )


@router.post("/{thread_id}/state", response=State)
def update_state(request: HttpRequest, thread_id: str, payload: StateUpdateIn) -> State:
    checkpoint = payload.checkpoint or (
        {"checkpoint_id": payload.checkpoint_id} if payload.checkpoint_id else None
    )
    try:
        return thread_state_update(
            thread=thread_get(thread_id=thread_id),
            values=payload.values,
            as_node=payload.as_node,
            checkpoint=checkpoint,
        )
    except ThreadBusy:
        raise HttpError(409, "Thread is busy: a run is in flight.") from None
    except ThreadWithoutGraph:
        raise HttpError(409, "Thread has no state yet: run a graph on it first.") from None


@router.post("/{thread_id}/history", response=list[State])
def post_history(request: HttpRequest, thread_id: str, payload: HistoryIn) -> list[State]:
    return thread_history_list(
        thread=thread_get(thread_id=thread_id),
        limit=payload.limit,
        before=payload.before,
        metadata=payload.metadata,
        checkpoint=payload.checkpoint,
    )


@router.get("/{thread_id}/history", response=list[State])
def get_history(request: HttpRequest, thread_id: str, query: Query[HistoryQuery]) -> list[State]:
    return thread_history_list(
        thread=thread_get(thread_id=thread_id), limit=query.limit, before=query.before
    )
