from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from apps.apikeys.services import CreatedKey, api_key_create
from apps.assistants.services import assistant_ensure_defaults
from apps.tenancy.models import Tenant


class TenantExists(ValueError):
    pass


@dataclass(frozen=True)
class CreatedTenant:
    tenant: Tenant
    first_key: CreatedKey


def tenant_create(*, slug: str, name: str | None = None) -> CreatedTenant:
    """A tenant with its default assistants and its first API key."""
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(slug=slug, name=name or slug)
            assistant_ensure_defaults(tenant=tenant)
            first_key = api_key_create(tenant=tenant, name="first key")
    except IntegrityError:
        raise TenantExists(f"a tenant with slug {slug!r} already exists") from None
    return CreatedTenant(tenant=tenant, first_key=first_key)
