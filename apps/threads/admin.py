"""Operator admin for threads: read-only; deleting one also deletes its runs and checkpoints."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.tenancy.admin import ReadOnlyAdmin, TenantOwnedAdmin
from apps.threads.models import Thread
from apps.threads.services import thread_delete


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdmin, TenantOwnedAdmin):
    list_display = ("thread_id", "tenant", "status", "created_at", "updated_at", "state_updated_at")
    list_filter = ("tenant", "status")
    search_fields = ("thread_id", "tenant__slug")

    def delete_model(self, request: HttpRequest, obj: Thread) -> None:
        thread_delete(thread=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        for thread in queryset:
            thread_delete(thread=thread)
