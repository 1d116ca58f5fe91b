from __future__ import annotations

import httpx
import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from apps.assistants.models import Assistant
from apps.tenancy.scope import TenantScopeMissing, current_tenant_or_none, tenant_scope
from tests.apiclient import TenantApi
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


def _count_assistants_without_auth(request: HttpRequest) -> HttpResponse:
    """A careless view: it reads a tenant-owned table without entering a scope."""
    return HttpResponse(str(Assistant.objects.count()))


urlpatterns = [
    path("careless", _count_assistants_without_auth),
    path("", include("agenthost.urls")),
]


def test_scope_is_reset_after_every_request(alice_api: TenantApi) -> None:
    for response in (
        alice_api.get("/keys"),
        alice_api.get("/threads/00000000-0000-0000-0000-000000000000"),
        alice_api.post("/assistants", {"graph_id": "nope"}),
    ):
        assert response.status_code in {200, 404, 422}
        assert current_tenant_or_none() is None
    with pytest.raises(TenantScopeMissing):
        Assistant.objects.count()


@pytest.mark.urls(__name__)
def test_a_request_without_scope_fails_closed(alice_api: TenantApi, client: Client) -> None:
    # Alice's request entered her scope; it must not carry over to the next request.
    assert alice_api.get("/keys").status_code == 200
    with pytest.raises(TenantScopeMissing):
        client.get("/careless", headers={"X-Api-Key": alice_api.headers["X-Api-Key"]})
    assert current_tenant_or_none() is None
