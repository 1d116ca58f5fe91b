from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.tenancy.models import TenantOwned


class ApiKey(TenantOwned):
    """An API key. Only the HMAC of its secret is stored (see ``hashing``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key_id = models.CharField(max_length=32, unique=True, editable=False)
    secret_hmac = models.CharField(max_length=64, editable=False)
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (ahk_{self.key_id}_…)"

    @property
    def prefix(self) -> str:
        return f"ahk_{self.key_id}_"
