from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from apps.apikeys.models import ApiKey


def api_key_list() -> QuerySet[ApiKey]:
    """The scoped tenant's keys, newest first, revoked and expired ones included."""
    return ApiKey.objects.select_related("created_by").order_by("-created_at")


def api_key_get(*, key_id: uuid.UUID | str) -> ApiKey:
    """The scoped tenant's key by its id; a missing one and another tenant's look the same."""
    try:
        return ApiKey.objects.select_related("created_by").get(id=uuid.UUID(str(key_id)))
    except (ValueError, ApiKey.DoesNotExist):
        raise Http404("API key not found.") from None
