from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from apps.assistants.models import Assistant, AssistantVersion
from apps.assistants.services import assistant_ensure_defaults, default_assistant_id
from apps.common.search import Page, SortOrder, json_contains, ordered, page_of
from apps.graphs.catalogue import graph_specs
from apps.tenancy.scope import current_tenant


def assistant_resolve(*, assistant_id: str) -> Assistant:
    """The scoped tenant's assistant named by id, or its default one for a graph id.

    Raises Assistant.DoesNotExist for anything else, including another tenant's id.
    """
    try:
        return Assistant.objects.get(assistant_id=uuid.UUID(assistant_id))
    except ValueError:
        pass
    if assistant_id not in graph_specs():
        raise Assistant.DoesNotExist(assistant_id)
    tenant = current_tenant()
    default_id = default_assistant_id(tenant=tenant, graph_id=assistant_id)
    try:
        return Assistant.objects.get(assistant_id=default_id)
    except Assistant.DoesNotExist:
        assistant_ensure_defaults(tenant=tenant)
        return Assistant.objects.get(assistant_id=default_id)


def _assistants_matching(
    *,
    metadata: dict[str, Any] | None = None,
    graph_id: str | None = None,
    name: str | None = None,
) -> QuerySet[Assistant]:
    assistants = json_contains(Assistant.objects.all(), field="metadata", value=metadata)
    if graph_id is not None:
        assistants = assistants.filter(graph_id=graph_id)
    if name:
        assistants = assistants.filter(name__icontains=name)
    return assistants


def assistant_search(
    *,
    metadata: dict[str, Any] | None = None,
    graph_id: str | None = None,
    name: str | None = None,
    sort_by: str = "created_at",
    sort_order: SortOrder = "desc",
    limit: int = 10,
    offset: int = 0,
) -> Page[Assistant]:
    assistants = _assistants_matching(metadata=metadata, graph_id=graph_id, name=name)
    assistants = ordered(
        assistants, sort_by=sort_by, sort_order=sort_order, tie_breaker="assistant_id"
    )
    return page_of(assistants, limit=limit, offset=offset)


def assistant_count(
    *,
    metadata: dict[str, Any] | None = None,
    graph_id: str | None = None,
    name: str | None = None,
) -> int:
    return _assistants_matching(metadata=metadata, graph_id=graph_id, name=name).count()


def assistant_versions(
    *,
    assistant: Assistant,
    metadata: dict[str, Any] | None = None,
    limit: int = 10,
    offset: int = 0,
) -> list[AssistantVersion]:
    """The assistant's stored versions, newest first."""
    versions = AssistantVersion.objects.filter(assistant=assistant).order_by("-version")
    versions = json_contains(versions, field="metadata", value=metadata)
    return list(versions[offset : offset + limit])
