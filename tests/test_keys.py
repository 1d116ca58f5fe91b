from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.apikeys.models import ApiKey
from tests.apiclient import TenantApi
from tests.conftest import TenantWithKey

NOT_FOUND = {"detail": "API key not found."}
UNAUTHORIZED = {"detail": "Invalid or missing API key."}
KEY_FIELDS = {
    "id",
    "name",
    "prefix",
    "created_at",
    "created_by",
    "last_used_at",
    "expires_at",
    "revoked_at",
}


def create(api: TenantApi, **body: object) -> dict:
    response = api.post("/keys", {"name": "ci", **body})
    assert response.status_code == 201, response.content
    return response.json()


def error_fields(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {error["loc"][-1] for error in response.json()["detail"]}


def test_list_shows_keys_but_never_a_secret(alice: TenantWithKey, alice_api: TenantApi) -> None:
    response = alice_api.get("/keys")
    assert response.status_code == 200
    [key] = response.json()
    assert set(key) == KEY_FIELDS
    assert key["name"] == "first key"
    assert alice.key.startswith(key["prefix"])
    assert key["prefix"].startswith("ahk_")
    assert key["prefix"].endswith("_")
    assert key["last_used_at"] is not None
    secret = alice.key.removeprefix(key["prefix"])
    stored = ApiKey.unscoped_all_tenants.get(pk=key["id"])
    assert secret not in response.content.decode()
    assert stored.secret_hmac not in response.content.decode()


def test_create_shows_the_plaintext_once(alice_api: TenantApi) -> None:
    expires_at = timezone.now() + timedelta(days=30)
    created = create(alice_api, name="deploy bot", expires_at=expires_at.isoformat())
    assert set(created) == KEY_FIELDS | {"key"}
    assert created["key"].startswith(created["prefix"])
    assert created["name"] == "deploy bot"
    assert created["expires_at"] is not None
    assert created["created_by"] is None

    listed = alice_api.get("/keys").json()
    assert [k["name"] for k in listed] == ["deploy bot", "first key"]
    assert created["key"] not in alice_api.get("/keys").content.decode()
    # The new key works, and works for the same tenant.
    assert TenantApi(created["key"]).get("/keys").json()[0]["id"] == created["id"]


def test_create_rejects_bad_input(alice_api: TenantApi) -> None:
    assert error_fields(alice_api.post("/keys", {})) == {"name"}
    assert error_fields(alice_api.post("/keys", {"name": ""})) == {"name"}
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    assert error_fields(alice_api.post("/keys", {"name": "x", "expires_at": past})) == {
        "expires_at"
    }
    assert error_fields(alice_api.post("/keys", {"name": "x", "expires_at": "soon"})) == {
        "expires_at"
    }
    invalid_json = alice_api.post_raw("/keys", b"name=x")
    assert invalid_json.status_code == 422
    assert invalid_json.json() == {"detail": "Invalid JSON in request body"}


@pytest.mark.parametrize("how", ["delete", "post"])
def test_a_revoked_key_gets_the_same_401_as_any_bad_key(alice_api: TenantApi, how: str) -> None:
    created = create(alice_api)
    path = f"/keys/{created['id']}"
    if how == "delete":
        assert alice_api.delete(path).status_code == 204
    else:
        revoked = alice_api.post(f"{path}/revoke")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None

    response = TenantApi(created["key"]).get("/keys")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert TenantApi("ahk_nope").get("/keys").json() == UNAUTHORIZED
    # Revoking again changes nothing.
    assert alice_api.delete(path).status_code == 204


def test_an_expired_key_gets_401(alice_api: TenantApi) -> None:
    created = create(alice_api)
    ApiKey.unscoped_all_tenants.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert TenantApi(created["key"]).get("/keys").json() == UNAUTHORIZED


@pytest.mark.parametrize("key_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_missing_or_malformed_ids_are_404(alice_api: TenantApi, key_id: str) -> None:
    for response in (alice_api.delete(f"/keys/{key_id}"), alice_api.post(f"/keys/{key_id}/revoke")):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_bob_gets_404_on_alice_keys(
    alice: TenantWithKey, alice_api: TenantApi, bob_api: TenantApi
) -> None:
    alice_key_id = alice_api.get("/keys").json()[0]["id"]
    for response in (
        bob_api.delete(f"/keys/{alice_key_id}"),
        bob_api.post(f"/keys/{alice_key_id}/revoke"),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert alice_key_id not in bob_api.get("/keys").content.decode()
    assert alice_api.get("/keys").status_code == 200


def test_unauthenticated_is_401() -> None:
    assert TenantApi(None).get("/keys").json() == UNAUTHORIZED
