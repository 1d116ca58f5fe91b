"""Request and response shapes of the assistants API, as langgraph-sdk sends and reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import AfterValidator, Field

from apps.common.schemas import RequestBody
from apps.common.search import SortOrder
from apps.graphs.catalogue import graph_ids

AssistantField = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]
AssistantSortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]


def _served_graph(graph_id: str) -> str:
    if graph_id not in graph_ids():
        served = ", ".join(graph_ids())
        raise ValueError(f"unknown graph {graph_id!r}; this deployment serves: {served}")
    return graph_id


ServedGraphId = Annotated[str, AfterValidator(_served_graph)]


class AssistantCreateIn(RequestBody):
    graph_id: ServedGraphId
    assistant_id: UUID | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=200)
    description: str | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class AssistantPatchIn(RequestBody):
    graph_id: ServedGraphId | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=200)
    description: str | None = None


class AssistantCountIn(RequestBody):
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantSearchIn(AssistantCountIn):
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: AssistantSortBy = "created_at"
    sort_order: SortOrder = "desc"
    select: list[AssistantField] | None = None


class AssistantVersionsIn(RequestBody):
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class AssistantLatestIn(RequestBody):
    version: int = Field(ge=1)


class AssistantVersionOut(Schema):
    assistant_id: UUID
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    created_at: datetime
    metadata: dict[str, Any]
    version: int
    name: str
    description: str | None


class AssistantOut(AssistantVersionOut):
    updated_at: datetime


class GraphSchemaOut(Schema):
    graph_id: str
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    state_schema: dict[str, Any] | None
    config_schema: dict[str, Any] | None
    context_schema: dict[str, Any] | None
