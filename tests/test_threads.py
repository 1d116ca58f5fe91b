from __future__ import annotations

import uuid

import pytest

from apps.runs.models import Run
from apps.tenancy.scope import tenant_scope
from apps.threads import services as thread_services
from apps.threads.models import Thread
from tests.apiclient import TenantApi
from tests.conftest import TenantWithKey

NOT_FOUND = {"detail": "Thread not found."}
THREAD_FIELDS = {
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "status",
    "values",
    "interrupts",
    "error",
}


def create(api: TenantApi, **body: object) -> dict:
    response = api.post("/threads", body)
    assert response.status_code == 200, response.content
    return response.json()


def error_fields(response) -> set[str]:
    """The fields a 422 names."""
    assert response.status_code == 422, response.content
    return {error["loc"][-1] for error in response.json()["detail"]}


# create


def test_create_returns_the_thread_shape(alice_api: TenantApi) -> None:
    thread = create(alice_api, metadata={"user": "u1"})
    assert set(thread) == THREAD_FIELDS
    assert thread["metadata"] == {"user": "u1"}
    assert thread["status"] == "idle"
    assert thread["values"] is None
    assert thread["interrupts"] == {}


def test_create_with_an_id_and_if_exists(alice_api: TenantApi) -> None:
    thread_id = str(uuid.uuid4())
    assert create(alice_api, thread_id=thread_id)["thread_id"] == thread_id

    conflict = alice_api.post("/threads", {"thread_id": thread_id})
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": f"Thread {thread_id} already exists."}

    again = create(alice_api, thread_id=thread_id, if_exists="do_nothing", metadata={"x": 1})
    assert again["thread_id"] == thread_id
    assert again["metadata"] == {}


def test_create_rejects_bad_input(alice_api: TenantApi) -> None:
    assert error_fields(alice_api.post("/threads", {"thread_id": "nope"})) == {"thread_id"}
    assert error_fields(alice_api.post("/threads", {"if_exists": "update"})) == {"if_exists"}
    assert error_fields(alice_api.post("/threads", {"metadata": [1]})) == {"metadata"}


@pytest.mark.parametrize("body", [b"[]", b"null", b'"x"', b"1"])
def test_a_body_that_is_not_an_object_is_a_422(alice_api: TenantApi, body: bytes) -> None:
    for path in ("/threads", "/threads/search", "/threads/count", "/keys", "/assistants"):
        response = alice_api.post_raw(path, body)
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["loc"] == ["body", "payload"]
    assert alice_api.post("/threads/count", {}).json() == 0


def test_invalid_json_is_a_422(alice_api: TenantApi) -> None:
    response = alice_api.post_raw("/threads", b'{"metadata": ')
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid JSON in request body"}


def test_bob_cannot_take_or_see_alice_thread_id(alice_api: TenantApi, bob_api: TenantApi) -> None:
    thread_id = create(alice_api, metadata={"secret": 1})["thread_id"]
    response = bob_api.post("/threads", {"thread_id": thread_id, "if_exists": "do_nothing"})
    assert response.status_code == 409
    assert "secret" not in response.content.decode()


# get, patch, delete


def test_get_patch_merges_metadata(alice_api: TenantApi) -> None:
    thread = create(alice_api, metadata={"a": 1, "b": 1})
    path = f"/threads/{thread['thread_id']}"
    assert alice_api.get(path).json() == thread

    patched = alice_api.patch(path, {"metadata": {"b": 2, "c": 3}})
    assert patched.status_code == 200
    assert patched.json()["metadata"] == {"a": 1, "b": 2, "c": 3}
    assert alice_api.get(path).json()["metadata"] == {"a": 1, "b": 2, "c": 3}


def test_patch_with_prefer_minimal_has_no_body(alice_api: TenantApi) -> None:
    path = f"/threads/{create(alice_api)['thread_id']}"
    response = alice_api.patch(path, {"metadata": {"k": "v"}}, Prefer="return=minimal")
    assert response.status_code == 204
    assert response.content == b""
    assert alice_api.get(path).json()["metadata"] == {"k": "v"}


def test_patch_rejects_bad_input(alice_api: TenantApi) -> None:
    path = f"/threads/{create(alice_api)['thread_id']}"
    assert error_fields(alice_api.patch(path, {"metadata": "x"})) == {"metadata"}


def test_delete_removes_the_thread_its_runs_and_its_checkpoints(
    alice: TenantWithKey, alice_api: TenantApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id = create(alice_api)["thread_id"]
    Run.unscoped_all_tenants.create(tenant=alice.tenant, thread_id=thread_id, graph_id="echo")
    checkpoints_deleted = []
    monkeypatch.setattr(
        thread_services,
        "thread_checkpoints_delete",
        lambda *, thread_id: checkpoints_deleted.append(thread_id),
    )

    response = alice_api.delete(f"/threads/{thread_id}")

    assert response.status_code == 204
    assert alice_api.get(f"/threads/{thread_id}").status_code == 404
    assert not Run.unscoped_all_tenants.filter(thread_id=thread_id).exists()
    assert [str(t) for t in checkpoints_deleted] == [thread_id]


@pytest.mark.parametrize("thread_id", [str(uuid.uuid4()), "not-a-uuid", "12"])
def test_missing_or_malformed_ids_are_404(alice_api: TenantApi, thread_id: str) -> None:
    for response in (
        alice_api.get(f"/threads/{thread_id}"),
        alice_api.patch(f"/threads/{thread_id}", {"metadata": {}}),
        alice_api.delete(f"/threads/{thread_id}"),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_bob_gets_404_on_alice_thread(alice_api: TenantApi, bob_api: TenantApi) -> None:
    thread_id = create(alice_api, metadata={"owner": "alice"})["thread_id"]
    path = f"/threads/{thread_id}"
    for response in (
        bob_api.get(path),
        bob_api.patch(path, {"metadata": {"owner": "bob"}}),
        bob_api.delete(path),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert alice_api.get(path).json()["metadata"] == {"owner": "alice"}
    assert bob_api.post("/threads/search", {"ids": [thread_id]}).json() == []
    assert bob_api.post("/threads/count", {}).json() == 0


def test_unauthenticated_is_401(alice_api: TenantApi) -> None:
    thread_id = create(alice_api)["thread_id"]
    response = TenantApi(None).get(f"/threads/{thread_id}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or missing API key."}


# search, count


@pytest.fixture
def three_threads(alice: TenantWithKey, alice_api: TenantApi) -> list[dict]:
    threads = [
        create(alice_api, metadata={"user": "u1", "tier": {"name": "gold", "level": 3}}),
        create(alice_api, metadata={"user": "u2"}),
        create(alice_api, metadata={"user": "u1"}),
    ]
    # Runs write values and status; set them as a finished run would.
    with tenant_scope(alice.tenant):
        Thread.objects.filter(thread_id=threads[1]["thread_id"]).update(
            status="error", values={"messages": [], "n": 2}
        )
    return threads


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [thread["thread_id"] for thread in response.json()]


def test_search_filters(alice_api: TenantApi, three_threads: list[dict]) -> None:
    first, second, third = (t["thread_id"] for t in three_threads)
    assert ids(alice_api.post("/threads/search", {})) == [third, second, first]
    assert ids(alice_api.post("/threads/search", {"metadata": {"user": "u1"}})) == [third, first]
    exact_nested = {"metadata": {"tier": {"name": "gold", "level": 3}}}
    assert ids(alice_api.post("/threads/search", exact_nested)) == [first]
    assert ids(alice_api.post("/threads/search", {"values": {"n": 2}})) == [second]
    assert ids(alice_api.post("/threads/search", {"status": "error"})) == [second]
    assert ids(alice_api.post("/threads/search", {"ids": [first, third]})) == [third, first]


@pytest.mark.postgres
def test_search_matches_nested_metadata_by_containment(
    alice_api: TenantApi, three_threads: list[dict]
) -> None:
    found = alice_api.post("/threads/search", {"metadata": {"tier": {"name": "gold"}}})
    assert ids(found) == [three_threads[0]["thread_id"]]


def test_search_pages_sorts_and_selects(alice_api: TenantApi, three_threads: list[dict]) -> None:
    first, second, third = (t["thread_id"] for t in three_threads)
    page = alice_api.post("/threads/search", {"limit": 2, "sort_order": "asc"})
    assert ids(page) == [first, second]
    assert page.headers["X-Pagination-Next"] == "2"
    last = alice_api.post("/threads/search", {"limit": 2, "offset": 2, "sort_order": "asc"})
    assert ids(last) == [third]
    assert "X-Pagination-Next" not in last.headers

    by_status = alice_api.post("/threads/search", {"sort_by": "status", "sort_order": "desc"})
    assert ids(by_status)[0] in {first, third}
    assert ids(by_status)[-1] == second

    selected = alice_api.post("/threads/search", {"select": ["thread_id", "status"], "limit": 1})
    assert selected.json() == [{"thread_id": third, "status": "idle"}]


def test_search_rejects_bad_input(alice_api: TenantApi) -> None:
    assert error_fields(alice_api.post("/threads/search", {"limit": 0})) == {"limit"}
    assert error_fields(alice_api.post("/threads/search", {"offset": -1})) == {"offset"}
    assert error_fields(alice_api.post("/threads/search", {"sort_by": "values"})) == {"sort_by"}
    assert error_fields(alice_api.post("/threads/search", {"select": ["secret"]})) == {0}
    assert error_fields(alice_api.post("/threads/search", {"status": "done"})) == {"status"}
    assert error_fields(alice_api.post("/threads/search", {"ids": ["x"]})) == {0}


def test_count(alice_api: TenantApi, three_threads: list[dict]) -> None:
    assert alice_api.post("/threads/count", {}).json() == 3
    assert alice_api.post("/threads/count", {"metadata": {"user": "u1"}}).json() == 2
    assert alice_api.post("/threads/count", {"status": "idle"}).json() == 2
    assert alice_api.post("/threads/count", {"values": {"n": 2}}).json() == 1
    assert error_fields(alice_api.post("/threads/count", {"status": "done"})) == {"status"}
