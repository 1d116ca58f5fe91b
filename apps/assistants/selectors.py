from __future__ import annotations

import uuid

from apps.assistants.models import Assistant
from apps.assistants.services import assistant_ensure_defaults, default_assistant_id
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
