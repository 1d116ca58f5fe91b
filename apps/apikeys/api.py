"""API keys of the calling tenant: list, create (the plaintext is shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from apps.apikeys.schemas import ApiKeyCreatedOut, ApiKeyCreateIn, ApiKeyOut
from apps.apikeys.selectors import api_key_get, api_key_list
from apps.apikeys.services import api_key_create, api_key_revoke
from apps.tenancy.scope import current_tenant

router = Router(tags=["keys"])


@router.get("", response=list[ApiKeyOut])
def list_keys(request: HttpRequest) -> Any:
    return api_key_list()


@router.post("", response={201: ApiKeyCreatedOut})
def create_key(request: HttpRequest, payload: ApiKeyCreateIn) -> Any:
    created = api_key_create(
        tenant=current_tenant(), name=payload.name, expires_at=payload.expires_at
    )
    shown = ApiKeyOut.model_validate(created.key).model_dump()
    return Status(201, ApiKeyCreatedOut(**shown, key=created.plaintext))


@router.delete("/{key_id}", response={204: None})
def delete_key(request: HttpRequest, key_id: str) -> None:
    api_key_revoke(key=api_key_get(key_id=key_id))


@router.post("/{key_id}/revoke", response=ApiKeyOut)
def revoke_key(request: HttpRequest, key_id: str) -> Any:
    return api_key_revoke(key=api_key_get(key_id=key_id))
