from __future__ import annotations

import uuid
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.assistants.models import Assistant, AssistantVersion
from apps.graphs.catalogue import graph_ids
from apps.tenancy.models import Tenant
from apps.threads.models import Thread
from apps.threads.services import thread_delete

_DEFAULT_ASSISTANT_NS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")

# The fields an AssistantVersion copies from its assistant.
_VERSIONED_FIELDS = ("graph_id", "name", "description", "config", "context", "metadata")


class AssistantExists(ValueError):
    pass


def default_assistant_id(*, tenant: Tenant, graph_id: str) -> uuid.UUID:
    """Stable per tenant and graph, so every tenant's default assistants differ."""
    return uuid.uuid5(_DEFAULT_ASSISTANT_NS, f"{tenant.pk}:{graph_id}")


@transaction.atomic
def assistant_ensure_defaults(*, tenant: Tenant) -> None:
    """Create the tenant's default assistant for every catalogue graph that lacks one."""
    for graph_id in graph_ids():
        assistant_id = default_assistant_id(tenant=tenant, graph_id=graph_id)
        assistant, created = Assistant.unscoped_all_tenants.get_or_create(
            assistant_id=assistant_id,
            defaults={
                "tenant": tenant,
                "graph_id": graph_id,
                "name": graph_id,
                "metadata": {"created_by": "system"},
            },
        )
        if created:
            _version_record(assistant)


def _version_record(assistant: Assistant) -> AssistantVersion:
    """Store the assistant's current fields as its version `assistant.version`."""
    return AssistantVersion.unscoped_all_tenants.create(
        tenant_id=assistant.tenant_id,
        assistant=assistant,
        version=assistant.version,
        **{field: getattr(assistant, field) for field in _VERSIONED_FIELDS},
    )


def assistant_create(
    *,
    graph_id: str,
    assistant_id: uuid.UUID | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    if_exists: Literal["raise", "do_nothing"] = "raise",
) -> Assistant:
    """Create an assistant, and its version 1, for the scoped tenant.

    An id taken by another tenant raises AssistantExists too (ids are global), but its
    assistant is never returned.
    """
    if assistant_id is not None:
        existing = Assistant.objects.filter(assistant_id=assistant_id).first()
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise AssistantExists(f"Assistant {assistant_id} already exists.")
    try:
        with transaction.atomic():
            assistant = Assistant.objects.create(
                assistant_id=assistant_id or uuid.uuid4(),
                graph_id=graph_id,
                name=name or "Untitled",
                description=description,
                config=config or {},
                context=context or {},
                metadata=metadata or {},
            )
            _version_record(assistant)
    except IntegrityError:
        raise AssistantExists(f"Assistant {assistant_id} already exists.") from None
    return assistant


@transaction.atomic
def assistant_update(
    *,
    assistant: Assistant,
    graph_id: str | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
) -> Assistant:
    """Store a new version built from the current one; `metadata` merges, the rest replaces.

    The new version number follows the highest stored one, not the current one, since
    ``assistant_set_latest`` may have moved the assistant back to an older version.
    """
    # The row lock serialises concurrent updates, so two never claim the same number.
    assistant = Assistant.objects.select_for_update().get(pk=assistant.pk)
    highest = AssistantVersion.objects.filter(assistant=assistant).aggregate(
        highest=Max("version")
    )["highest"]
    if graph_id is not None:
        assistant.graph_id = graph_id
    if config is not None:
        assistant.config = config
    if context is not None:
        assistant.context = context
    if metadata is not None:
        assistant.metadata = {**assistant.metadata, **metadata}
    if name is not None:
        assistant.name = name
    if description is not None:
        assistant.description = description
    assistant.version = (highest or 0) + 1
    assistant.save()
    _version_record(assistant)
    return assistant


@transaction.atomic
def assistant_set_latest(*, assistant: Assistant, version: int) -> Assistant:
    """Make a stored version current. Raises AssistantVersion.DoesNotExist for an unknown one."""
    assistant = Assistant.objects.select_for_update().get(pk=assistant.pk)
    stored = AssistantVersion.objects.get(assistant=assistant, version=version)
    for field in _VERSIONED_FIELDS:
        setattr(assistant, field, getattr(stored, field))
    assistant.version = stored.version
    assistant.save()
    return assistant


@transaction.atomic
def assistant_delete(*, assistant: Assistant, delete_threads: bool = False) -> None:
    """Delete the assistant and its versions; its runs stay, without an assistant.

    With `delete_threads`, the threads whose ``metadata.assistant_id`` names it go too
    (with their runs and checkpoints), as LangGraph Platform does.
    """
    if delete_threads:
        threads = Thread.objects.filter(metadata__assistant_id=str(assistant.assistant_id))
        for thread in threads:
            thread_delete(thread=thread)
    assistant.delete()
