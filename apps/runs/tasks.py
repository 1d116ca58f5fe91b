"""Celery tasks of the run engine: thin doors into ``apps.runs.engine``."""

from __future__ import annotations

import threading
from typing import Any

from celery import Task, shared_task

from apps.runs import signals  # noqa: F401  (connects the worker's reaper)
from apps.runs.engine.dispatch import EXECUTE_TASK
from apps.runs.engine.runner import run_execute
from apps.runs.engine.webhook import WEBHOOK_TASK, WebhookRetry, webhook_deliver
from apps.tenancy.models import Tenant
from apps.tenancy.scope import tenant_scope


@shared_task(bind=True, name=EXECUTE_TASK, acks_late=True, ignore_result=True)
def execute_run(self: Task, run_id: str, tenant_id: str) -> None:
    """Execute one attempt of the run, in its tenant's scope (a task-entry door)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    worker = f"{self.request.hostname}/{threading.current_thread().name}"
    with tenant_scope(tenant):
        run_execute(run_id=run_id, worker=worker)


@shared_task(
    name=WEBHOOK_TASK,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(WebhookRetry,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def deliver_webhook(url: str, payload: dict[str, Any]) -> None:
    """POST an ended run's webhook, retried with backoff while the receiver fails."""
    webhook_deliver(url=url, payload=payload)
