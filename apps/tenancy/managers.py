"""Managers that fail closed: a tenant-owned query without a tenant scope raises."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.tenancy.scope import current_tenant


class TenantScopedManager(models.Manager):
    """Default manager of tenant-owned models: always filtered to the scoped tenant."""

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(tenant=current_tenant())

    def create(self, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant", current_tenant())
        return super().create(**kwargs)
