"""Gives every request an empty tenant scope and restores the previous one afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from apps.tenancy.scope import enter_tenant_scope, leave_tenant_scope


class TenantScopeMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        token = enter_tenant_scope(None)
        try:
            return self.get_response(request)
        finally:
            leave_tenant_scope(token)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        token = enter_tenant_scope(None)
        try:
            return await self.get_response(request)
        finally:
            leave_tenant_scope(token)
