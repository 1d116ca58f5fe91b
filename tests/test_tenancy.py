from __future__ import annotations

import httpx
import pytest

from apps.assistants.models import Assistant
from apps.tenancy.scope import TenantScopeMissing, tenant_scope
from tests.conftest import TenantWithKey
from tests.live import WebServer


def test_scoped_manager_fails_closed_without_scope(alice: TenantWithKey) -> None:
    with pytest.raises(TenantScopeMissing):
        list(Assistant.objects.all())


def test_scoped_manager_sees_only_the_scoped_tenant(
    alice: TenantWithKey, bob: TenantWithKey
) -> None:
    with tenant_scope(alice.tenant):
        tenants = {a.tenant_id for a in Assistant.objects.all()}
    assert tenants == {alice.tenant.pk}


@pytest.mark.django_db(transaction=True)
def test_live_server_answers_ok_and_refuses_bad_keys(web_server: WebServer) -> None:
    assert httpx.get(f"{web_server.api_url}/ok").json() == {"ok": True}
    for headers in (
        {},
        {"X-Api-Key": "nope"},
        {"Authorization": "Bearer ahk_000000000000_" + "x" * 40},
    ):
        response = httpx.get(
            f"{web_server.api_url}/threads/00000000-0000-0000-0000-000000000000", headers=headers
        )
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": "Invalid or missing API key."}
