"""Operator admin for runs and their archived events: read-only, across all tenants."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.runs.models import Run, RunEvent
from apps.runs.services import RunNotCancellable, run_cancel
from apps.tenancy.admin import ReadOnlyAdmin, TenantOwnedAdmin
from apps.tenancy.scope import tenant_scope


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
    actions = ("cancel_runs",)

    @admin.action(description="Cancel selected runs (keep completed steps)")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        cancelled = 0
        for run in queryset.select_related("tenant"):
            # The operator acts for each run's own tenant, one scope at a time.
            with tenant_scope(run.tenant):
                try:
                    run_cancel(run=run, action="interrupt")
                except RunNotCancellable:
                    continue
            cancelled += 1
        skipped = queryset.count() - cancelled
        message = f"Cancelled {cancelled} run(s)."
        if skipped:
            message += f" {skipped} had already ended."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin, TenantOwnedAdmin):
    list_display = ("run_id", "event_id", "event", "tenant")
    list_filter = ("tenant", "event")
    search_fields = ("run__run_id", "event")
    # Ordering by the stream id keeps a run's events in the order they were written.
    ordering = ("run_id", "ms", "seq")
