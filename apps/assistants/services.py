from __future__ import annotations

import uuid

from django.db import transaction

from apps.assistants.models import Assistant, AssistantVersion
from apps.graphs.catalogue import graph_ids
from apps.tenancy.models import Tenant

_DEFAULT_ASSISTANT_NS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")


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
            AssistantVersion.unscoped_all_tenants.create(
                tenant=tenant,
                assistant=assistant,
                version=1,
                graph_id=graph_id,
                name=assistant.name,
                metadata=assistant.metadata,
            )
