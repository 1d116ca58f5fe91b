"""The tenant scope: which tenant the current request, task or command acts for.

A ContextVar holds it, so it follows the code into threads started with
``sync_to_async`` and into asyncio tasks, and never leaks between requests:
``TenantScopeMiddleware`` gives every request a fresh, empty scope and restores the
previous value afterwards. Only three doors enter a scope: API authentication,
a Celery task's entry, and management commands. Everything else reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.tenancy.models import Tenant


class TenantScopeMissing(RuntimeError):
    """A tenant-owned table was queried with no tenant in scope."""


_current_tenant: ContextVar[Tenant | None] = ContextVar("agenthost_tenant", default=None)


def current_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantScopeMissing(
            "no tenant in scope: enter one with tenant_scope() at a request, task or command door"
        )
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _current_tenant.get()


def enter_tenant_scope(tenant: Tenant | None) -> Token[Tenant | None]:
    """Set the scope; give the token back to ``leave_tenant_scope`` when done."""
    return _current_tenant.set(tenant)


def leave_tenant_scope(token: Token[Tenant | None]) -> None:
    _current_tenant.reset(token)


@contextmanager
def tenant_scope(tenant: Tenant | None) -> Iterator[None]:
    token = enter_tenant_scope(tenant)
    try:
        yield
    finally:
        leave_tenant_scope(token)
