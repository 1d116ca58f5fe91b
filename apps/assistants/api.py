"""Assistants: CRUD, search, versions and graph introspection (LangGraph-compatible).

Wherever an assistant id goes, a graph id may go instead: it names the tenant's
default assistant for that graph.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError

from apps.assistants.introspection import (
    assistant_graph_drawing,
    assistant_graph_schemas,
    assistant_subgraph_schemas,
)
from apps.assistants.schemas import (
    AssistantCountIn,
    AssistantCreateIn,
    AssistantLatestIn,
    AssistantOut,
    AssistantPatchIn,
    AssistantSearchIn,
    AssistantVersionOut,
    AssistantVersionsIn,
    GraphSchemaOut,
)
from apps.assistants.selectors import (
    assistant_count,
    assistant_resolve,
    assistant_search,
    assistant_versions,
)
from apps.assistants.services import (
    AssistantExists,
    assistant_create,
    assistant_delete,
    assistant_set_latest,
    assistant_update,
)
from apps.common.search import shaped

router = Router(tags=["assistants"])


@router.post("", response=AssistantOut)
def create_assistant(request: HttpRequest, payload: AssistantCreateIn) -> Any:
    try:
        return assistant_create(**payload.model_dump())
    except AssistantExists as exc:
        raise HttpError(409, str(exc)) from None


@router.post("/search", response=list[dict[str, Any]])
def search_assistants(
    request: HttpRequest, payload: AssistantSearchIn, response: HttpResponse
) -> Any:
    page = assistant_search(**payload.model_dump(exclude={"select"}))
    if page.next_offset is not None:
        response["X-Pagination-Next"] = str(page.next_offset)
    return shaped(AssistantOut, page.items, payload.select)


@router.post("/count", response=int)
def count_assistants(request: HttpRequest, payload: AssistantCountIn) -> int:
    return assistant_count(**payload.model_dump())


@router.get("/{assistant_id}", response=AssistantOut)
def get_assistant(request: HttpRequest, assistant_id: str) -> Any:
    return assistant_resolve(assistant_id=assistant_id)


@router.patch("/{assistant_id}", response=AssistantOut)
def patch_assistant(request: HttpRequest, assistant_id: str, payload: AssistantPatchIn) -> Any:
    return assistant_update(
        assistant=assistant_resolve(assistant_id=assistant_id), **payload.model_dump()
    )


@router.delete("/{assistant_id}", response={204: None})
def delete_assistant(request: HttpRequest, assistant_id: str, delete_threads: bool = False) -> None:
    assistant_delete(
        assistant=assistant_resolve(assistant_id=assistant_id), delete_threads=delete_threads
    )


@router.post("/{assistant_id}/versions", response=list[AssistantVersionOut])
def list_assistant_versions(
    request: HttpRequest, assistant_id: str, payload: AssistantVersionsIn
) -> Any:
    return assistant_versions(
        assistant=assistant_resolve(assistant_id=assistant_id), **payload.model_dump()
    )


@router.post("/{assistant_id}/latest", response=AssistantOut)
def set_latest_assistant_version(
    request: HttpRequest, assistant_id: str, payload: AssistantLatestIn
) -> Any:
    return assistant_set_latest(
        assistant=assistant_resolve(assistant_id=assistant_id), version=payload.version
    )


@router.get("/{assistant_id}/graph", response=dict[str, Any])
def get_assistant_graph(request: HttpRequest, assistant_id: str, xray: bool | int = False) -> Any:
    return assistant_graph_drawing(
        assistant=assistant_resolve(assistant_id=assistant_id), xray=xray
    )


@router.get("/{assistant_id}/schemas", response=GraphSchemaOut)
def get_assistant_schemas(request: HttpRequest, assistant_id: str) -> Any:
    return assistant_graph_schemas(assistant=assistant_resolve(assistant_id=assistant_id))


@router.get("/{assistant_id}/subgraphs", response=dict[str, GraphSchemaOut])
def get_assistant_subgraphs(request: HttpRequest, assistant_id: str, recurse: bool = False) -> Any:
    return assistant_subgraph_schemas(
        assistant=assistant_resolve(assistant_id=assistant_id), recurse=recurse
    )


@router.get("/{assistant_id}/subgraphs/{namespace}", response=dict[str, GraphSchemaOut])
def get_assistant_subgraphs_in(
    request: HttpRequest, assistant_id: str, namespace: str, recurse: bool = False
) -> Any:
    return assistant_subgraph_schemas(
        assistant=assistant_resolve(assistant_id=assistant_id),
        namespace=namespace,
        recurse=recurse,
    )
