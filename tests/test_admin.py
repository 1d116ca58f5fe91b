from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from apps.apikeys.models import ApiKey
from apps.assistants.models import Assistant, AssistantVersion
from apps.runs.models import Run, RunEvent
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.scope import current_tenant_or_none
from apps.threads.models import Thread
from tests.apiclient import TenantApi
from tests.conftest import TenantWithKey

TENANT_OWNED = (ApiKey, Assistant, AssistantVersion, Thread, Run, RunEvent)


@pytest.fixture
def fleet(alice: TenantWithKey, bob: TenantWithKey, admin_user: User) -> dict[str, Any]:
    """A bit of everything, in two tenants."""
    Membership.objects.create(user=admin_user, tenant=alice.tenant, role="owner")
    thread = Thread.unscoped_all_tenants.create(tenant=alice.tenant, metadata={"a": 1})
    Thread.unscoped_all_tenants.create(tenant=bob.tenant)
    assistant = Assistant.unscoped_all_tenants.filter(tenant=alice.tenant).first()
    run = Run.unscoped_all_tenants.create(
        tenant=alice.tenant, thread=thread, assistant=assistant, graph_id="echo"
    )
    RunEvent.unscoped_all_tenants.create(
        tenant=alice.tenant, run=run, ms=1, seq=0, event="metadata", data="{}"
    )
    return {"thread": thread, "run": run}


def admin_url(model: Any, view: str, *args: Any) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.usefixtures("fleet")
def test_every_changelist_and_change_page_loads(admin_client: Client) -> None:
    for model in (Tenant, Membership):
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200
        for obj in model.objects.all():
            assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    for model in TENANT_OWNED:
        response = admin_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
        # Operators see every tenant's rows.
        assert response.context["cl"].result_count == model.unscoped_all_tenants.count()
        obj = model.unscoped_all_tenants.first()
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200, model
    assert current_tenant_or_none() is None


def test_changelists_filter_by_tenant(
    admin_client: Client, fleet: dict[str, Any], bob: TenantWithKey
) -> None:
    for model in TENANT_OWNED:
        response = admin_client.get(
            admin_url(model, "changelist"), {"tenant__id__exact": str(bob.tenant.pk)}
        )
        assert response.status_code == 200
        expected = model.unscoped_all_tenants.filter(tenant=bob.tenant).count()
        assert response.context["cl"].result_count == expected


def test_api_key_pages_never_show_the_secret(admin_client: Client, alice: TenantWithKey) -> None:
    key = ApiKey.unscoped_all_tenants.get(tenant=alice.tenant)
    for url in (admin_url(ApiKey, "changelist"), admin_url(ApiKey, "change", key.pk)):
        page = admin_client.get(url).content.decode()
        assert key.prefix in page
        assert key.secret_hmac not in page
        assert alice.key not in page


def test_revoke_selected_keys(
    admin_client: Client, alice: TenantWithKey, bob: TenantWithKey
) -> None:
    response = admin_client.post(
        admin_url(ApiKey, "changelist"),
        {
            "action": "revoke_selected",
            "_selected_action": [
                str(pk) for pk in ApiKey.unscoped_all_tenants.values_list("pk", flat=True)
            ],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Revoked 2 key(s)." in messages_of(response)
    assert not ApiKey.unscoped_all_tenants.filter(revoked_at=None).exists()
    for tenant in (alice, bob):
        assert TenantApi(tenant.key).get("/keys").status_code == 401


def test_adding_a_key_shows_its_plaintext_once(
    admin_client: Client, admin_user: User, alice: TenantWithKey
) -> None:
    response = admin_client.post(
        admin_url(ApiKey, "add"),
        {"tenant": str(alice.tenant.pk), "name": "ops key", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    [plaintext] = re.findall(r"ahk_[0-9a-f]{12}_[\w-]{20,}", " ".join(messages_of(response)))
    key = ApiKey.unscoped_all_tenants.get(name="ops key")
    assert key.created_by == admin_user
    assert key.tenant == alice.tenant
    assert plaintext.startswith(key.prefix)
    assert TenantApi(plaintext).get("/keys").status_code == 200
    assert plaintext not in admin_client.get(admin_url(ApiKey, "change", key.pk)).content.decode()


def test_deleting_a_thread_deletes_its_runs(admin_client: Client, fleet: dict[str, Any]) -> None:
    thread = fleet["thread"]
    response = admin_client.post(
        admin_url(Thread, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(thread.pk)], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert not Thread.unscoped_all_tenants.filter(pk=thread.pk).exists()
    assert not Run.unscoped_all_tenants.filter(thread_id=thread.pk).exists()


def test_records_the_system_writes_are_read_only(
    admin_client: Client, fleet: dict[str, Any]
) -> None:
    for model in (Assistant, AssistantVersion, Thread, Run, RunEvent):
        assert admin_client.get(admin_url(model, "add")).status_code == 403
    page = admin_client.get(admin_url(Run, "change", fleet["run"].pk))
    assert page.context["has_change_permission"] is False


def test_cancel_selected_runs_stops_the_ones_in_flight(
    admin_client: Client, fleet: dict[str, Any], bob: TenantWithKey
) -> None:
    pending = fleet["run"]
    finished = Run.unscoped_all_tenants.create(
        tenant=bob.tenant, graph_id="echo", status=Run.Status.SUCCESS
    )
    response = admin_client.post(
        admin_url(Run, "changelist"),
        {"action": "cancel_runs", "_selected_action": [pending.pk, finished.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response) == ["Cancelled 1 run(s). 1 had already ended."]
    pending.refresh_from_db()
    finished.refresh_from_db()
    assert pending.status == Run.Status.INTERRUPTED
    assert pending.cancel_action == "interrupt"
    assert finished.status == Run.Status.SUCCESS
    assert current_tenant_or_none() is None
