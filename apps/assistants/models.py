from __future__ import annotations

import uuid

from django.db import models

from apps.tenancy.models import TenantOwned


class Assistant(TenantOwned):
    """A configured graph. Editing it stores a new AssistantVersion."""

    assistant_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    graph_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "graph_id"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.graph_id})"


class AssistantVersion(TenantOwned):
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    graph_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["assistant", "version"], name="assistant_version")
        ]

    def __str__(self) -> str:
        return f"{self.assistant_id} v{self.version}"
