"""Operator admin for runs and their archived events: read-only, across all tenants."""

from __future__ import annotations

from django.contrib import admin

from apps.runs.models import Run, RunEvent
from apps.tenancy.admin import ReadOnlyAdmin, TenantOwnedAdmin


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin, TenantOwnedAdmin):
    list_display = (
        "run_id",
        "tenant",
        "graph_id",
        "status",
        "attempt",
        "worker",
        "created_at",
        "started_at",
        "ended_at",
    )
    list_filter = ("tenant", "status", "graph_id", "stateless")
    search_fields = ("run_id", "thread__thread_id", "tenant__slug")
    date_hierarchy = "created_at"
    # Operator actions on runs (such as cancel) call the run engine's services and are
    # listed here, next to the admin's own "delete selected".
    actions = ()


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin, TenantOwnedAdmin):
    list_display = ("run_id", "event_id", "event", "tenant")
    list_filter = ("tenant", "event")
    search_fields = ("run__run_id", "event")
    # Ordering by the stream id keeps a run's events in the order they were written.
    ordering = ("run_id", "ms", "seq")
