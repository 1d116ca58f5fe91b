from __future__ import annotations

from django.db import models

from apps.assistants.models import Assistant
from apps.runs.ids import uuid7
from apps.tenancy.models import TenantOwned
from apps.threads.models import Thread


class Run(TenantOwned):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCESS = "success"
        ERROR = "error"
        TIMEOUT = "timeout"
        INTERRUPTED = "interrupted"

    TERMINAL = frozenset({Status.SUCCESS, Status.ERROR, Status.TIMEOUT, Status.INTERRUPTED})

    run_id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Null once a stateless run's temporary thread is gone; the run stays for history.
    thread = models.ForeignKey(
        Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    assistant = models.ForeignKey(
        Assistant, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    graph_id = models.CharField(max_length=128)
    stateless = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    metadata = models.JSONField(default=dict, blank=True)
    # The creation request as LangGraph shows it (input, config, stream_mode, ...).
    kwargs = models.JSONField(default=dict, blank=True)
    multitask_strategy = models.CharField(max_length=16, default="enqueue")
    # Execution bookkeeping: each claim bumps `attempt` and sets a fresh lease token;
    # only the holder of the current token may renew the lease or write the outcome.
    attempt = models.PositiveIntegerField(default=0)
    lease_token = models.CharField(max_length=64, null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    cancel_action = models.CharField(max_length=16, null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    events_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "thread", "status"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]

    def __str__(self) -> str:
        return str(self.run_id)

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class RunEvent(TenantOwned):
    """An archived stream event. (ms, seq) is the Redis stream id, kept sortable."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    ms = models.BigIntegerField()
    seq = models.BigIntegerField()
    event = models.CharField(max_length=200)
    data = models.TextField()

    class Meta:
        ordering = ["ms", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "ms", "seq"], name="run_event_stream_id")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.event_id} {self.event}"

    @property
    def event_id(self) -> str:
        return f"{self.ms}-{self.seq}"
