"""Operator admin for tenants and memberships, and the base of every tenant-owned admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.tenancy.models import Membership, Tenant, TenantOwned


class TenantOwnedAdmin(admin.ModelAdmin):
    """Operators see every tenant: the admin is one of the few readers across tenants.

    Admin querysets come from the default manager, which fails closed without a tenant
    scope, so they are taken from ``unscoped_all_tenants`` instead. Filters on foreign
    keys to tenant-owned models would do the same and fail: filter by tenant instead.
    """

    list_filter: tuple[Any, ...] = ("tenant",)
    list_select_related = ("tenant",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        model: type[TenantOwned] = self.model
        queryset = model.unscoped_all_tenants.select_related("tenant")
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes; operators look, services change them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Listing every field keeps them all out of the (unused) model form, whose
        # choices for a tenant-owned foreign key would query without a tenant scope.
        return [field.name for field in self.model._meta.fields]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("id", "created_at")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("tenant", "role")
    list_select_related = ("user", "tenant")
    search_fields = ("user__username", "user__email", "tenant__slug")
    autocomplete_fields = ("user", "tenant")
