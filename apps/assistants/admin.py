"""Operator admin for assistants and their versions: read-only, deletion goes through services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.assistants.models import Assistant, AssistantVersion
from apps.assistants.services import assistant_delete
from apps.tenancy.admin import ReadOnlyAdmin, TenantOwnedAdmin


@admin.register(Assistant)
class AssistantAdmin(ReadOnlyAdmin, TenantOwnedAdmin):
    list_display = ("name", "graph_id", "tenant", "version", "created_at", "updated_at")
    list_filter = ("tenant", "graph_id")
    search_fields = ("assistant_id", "name", "graph_id", "tenant__slug")

    def delete_model(self, request: HttpRequest, obj: Assistant) -> None:
        assistant_delete(assistant=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Assistant]) -> None:
        for assistant in queryset:
            assistant_delete(assistant=assistant)


@admin.register(AssistantVersion)
class AssistantVersionAdmin(ReadOnlyAdmin, TenantOwnedAdmin):
    list_display = ("assistant_id", "version", "name", "graph_id", "tenant", "created_at")
    list_filter = ("tenant", "graph_id")
    search_fields = ("assistant__assistant_id", "name", "graph_id")
