"""Operator admin for API keys: the secret's HMAC is never shown, the plaintext once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from apps.apikeys.models import ApiKey
from apps.apikeys.services import api_key_create, api_key_revoke
from apps.tenancy.admin import TenantOwnedAdmin

# `secret_hmac` is in none of these: no list, form or page ever shows it.
_ADD_FIELDS = ("tenant", "name", "expires_at")
_CHANGE_FIELDS = (
    "tenant",
    "name",
    "prefix",
    "created_at",
    "created_by",
    "last_used_at",
    "expires_at",
    "revoked_at",
)
_CHANGE_READONLY = ("tenant", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")


@admin.register(ApiKey)
class ApiKeyAdmin(TenantOwnedAdmin):
    list_display = (
        "name",
        "tenant",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("tenant", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("tenant", "created_by")
    search_fields = ("name", "key_id", "tenant__slug")
    actions = ("revoke_selected",)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        return _CHANGE_FIELDS if obj else _ADD_FIELDS

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> tuple[str, ...]:
        return _CHANGE_READONLY if obj else ()

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = api_key_create(
            tenant=obj.tenant, name=obj.name, created_by=request.user, expires_at=obj.expires_at
        )
        # The admin goes on to log and link `obj`, so it must become the saved key.
        obj.pk = created.key.pk
        obj.key_id = created.key.key_id
        obj.created_at = created.key.created_at
        obj._state.adding = False
        messages.warning(
            request,
            f"The new API key is {created.plaintext} — copy it now: it is not stored "
            "and will not be shown again.",
        )

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset)
        for key in keys:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)
