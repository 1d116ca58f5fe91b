"""API authentication for django-ninja: the door where a request enters a tenant scope."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security.base import AuthBase

from apps.apikeys.models import ApiKey
from apps.apikeys.services import api_key_authenticate
from apps.tenancy.scope import enter_tenant_scope


def raw_key_from_request(request: HttpRequest) -> str | None:
    """The key from ``X-Api-Key`` (what langgraph-sdk sends) or ``Authorization: Bearer``."""
    header = request.headers.get("X-Api-Key")
    if header:
        return header
    authorization = request.headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return None


def authenticate_request(request: HttpRequest) -> ApiKey | None:
    """Authenticate and, on success, enter the key's tenant scope for this request.

    TenantScopeMiddleware resets the scope when the request ends.
    """
    raw = raw_key_from_request(request)
    if not raw:
        return None
    key = api_key_authenticate(raw=raw)
    if key is None:
        return None
    enter_tenant_scope(key.tenant)
    request.tenant = key.tenant  # type: ignore[attr-defined]
    return key


class ApiKeyAuth(AuthBase):
    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "X-Api-Key"

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        return authenticate_request(request)
