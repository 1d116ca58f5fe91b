from __future__ import annotations

import uuid

import pytest
from django.db import connection

from apps.assistants.models import Assistant, AssistantVersion
from apps.assistants.services import default_assistant_id
from apps.graphs.catalogue import graph_ids
from apps.tenancy.scope import tenant_scope
from apps.threads.models import Thread
from tests.apiclient import TenantApi
from tests.conftest import TenantWithKey

NOT_FOUND = {"detail": "Not found."}
# Every tenant has a default assistant per catalogue graph.
DEFAULTS = len(graph_ids())
ASSISTANT_FIELDS = {
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
    "name",
    "description",
}


def create(api: TenantApi, **body: object) -> dict:
    response = api.post("/assistants", {"graph_id": "echo", **body})
    assert response.status_code == 200, response.content
    return response.json()


def error_fields(response) -> set[str]:
    """The fields a 422 names."""
    assert response.status_code == 422, response.content
    return {error["loc"][-1] for error in response.json()["detail"]}


# create


def test_create_stores_version_one(alice: TenantWithKey, alice_api: TenantApi) -> None:
    assistant = create(
        alice_api,
        name="helper",
        description="says it back",
        config={"configurable": {"tone": "dry"}},
        context={"model": "fake"},
        metadata={"team": "a"},
    )
    assert set(assistant) == ASSISTANT_FIELDS
    assert assistant["graph_id"] == "echo"
    assert assistant["name"] == "helper"
    assert assistant["version"] == 1
    assert assistant["config"] == {"configurable": {"tone": "dry"}}
    assert assistant["context"] == {"model": "fake"}
    with tenant_scope(alice.tenant):
        versions = list(AssistantVersion.objects.filter(assistant_id=assistant["assistant_id"]))
    assert [(v.version, v.name, v.metadata) for v in versions] == [(1, "helper", {"team": "a"})]


def test_create_defaults(alice_api: TenantApi) -> None:
    assistant = create(alice_api)
    assert assistant["name"] == "Untitled"
    assert assistant["description"] is None
    assert (assistant["config"], assistant["context"], assistant["metadata"]) == ({}, {}, {})


def test_create_with_an_id_and_if_exists(alice_api: TenantApi) -> None:
    assistant_id = str(uuid.uuid4())
    assert create(alice_api, assistant_id=assistant_id, name="one")["assistant_id"] == assistant_id

    conflict = alice_api.post("/assistants", {"graph_id": "echo", "assistant_id": assistant_id})
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": f"Assistant {assistant_id} already exists."}

    again = create(alice_api, assistant_id=assistant_id, name="two", if_exists="do_nothing")
    assert (again["assistant_id"], again["name"]) == (assistant_id, "one")


def test_create_rejects_bad_input(alice_api: TenantApi) -> None:
    assert error_fields(alice_api.post("/assistants", {})) == {"graph_id"}
    assert error_fields(alice_api.post("/assistants", {"graph_id": None})) == {"graph_id"}
    unknown = alice_api.post("/assistants", {"graph_id": "nope"})
    assert error_fields(unknown) == {"graph_id"}
    assert "unknown graph 'nope'" in unknown.json()["detail"][0]["msg"]
    assert error_fields(create_body(alice_api, assistant_id="x")) == {"assistant_id"}
    assert error_fields(create_body(alice_api, if_exists="replace")) == {"if_exists"}
    assert error_fields(create_body(alice_api, config="x")) == {"config"}
    invalid_json = alice_api.post_raw("/assistants", b"{graph_id: echo}")
    assert invalid_json.status_code == 422
    assert invalid_json.json() == {"detail": "Invalid JSON in request body"}


def create_body(api: TenantApi, **body: object):
    return api.post("/assistants", {"graph_id": "echo", **body})


def test_bob_cannot_take_or_see_alice_assistant_id(
    alice_api: TenantApi, bob_api: TenantApi
) -> None:
    assistant_id = create(alice_api, name="alice-secret")["assistant_id"]
    response = create_body(bob_api, assistant_id=assistant_id, if_exists="do_nothing")
    assert response.status_code == 409
    assert "alice-secret" not in response.content.decode()


# get, by id or by graph id


def test_get_by_id_and_by_graph_id(alice: TenantWithKey, alice_api: TenantApi) -> None:
    assistant = create(alice_api)
    assert alice_api.get(f"/assistants/{assistant['assistant_id']}").json() == assistant

    default = alice_api.get("/assistants/echo").json()
    expected_id = default_assistant_id(tenant=alice.tenant, graph_id="echo")
    assert default["assistant_id"] == str(expected_id)
    assert default["metadata"] == {"created_by": "system"}


def test_a_deleted_default_assistant_comes_back(alice_api: TenantApi) -> None:
    default_id = alice_api.get("/assistants/ticker").json()["assistant_id"]
    assert alice_api.delete("/assistants/ticker").status_code == 204
    assert alice_api.get(f"/assistants/{default_id}").status_code == 404
    assert alice_api.get("/assistants/ticker").json()["assistant_id"] == default_id


@pytest.mark.parametrize("assistant_id", [str(uuid.uuid4()), "not-a-graph", "1234"])
def test_missing_or_malformed_ids_are_404_everywhere(
    alice_api: TenantApi, assistant_id: str
) -> None:
    for response in every_endpoint(alice_api, assistant_id):
        assert response.status_code == 404, response.request
        assert response.json() == NOT_FOUND


def every_endpoint(api: TenantApi, assistant_id: str) -> list:
    path = f"/assistants/{assistant_id}"
    return [
        api.get(path),
        api.patch(path, {"name": "x"}),
        api.post(f"{path}/versions", {}),
        api.post(f"{path}/latest", {"version": 1}),
        api.get(f"{path}/graph"),
        api.get(f"{path}/schemas"),
        api.get(f"{path}/subgraphs"),
        api.get(f"{path}/subgraphs/child"),
        api.delete(path),
    ]


def test_bob_gets_404_on_alice_assistant(
    alice: TenantWithKey, alice_api: TenantApi, bob_api: TenantApi
) -> None:
    assistant_id = create(alice_api, name="mine")["assistant_id"]
    default_id = str(default_assistant_id(tenant=alice.tenant, graph_id="echo"))
    for foreign in (assistant_id, default_id):
        for response in every_endpoint(bob_api, foreign):
            assert response.status_code == 404, response.request
            assert response.json() == NOT_FOUND
    assert alice_api.get(f"/assistants/{assistant_id}").json()["name"] == "mine"
    # Bob's graph id names his own default assistant, never alice's.
    assert bob_api.get("/assistants/echo").json()["assistant_id"] != default_id
    assert "mine" not in bob_api.post("/assistants/search", {"limit": 100}).content.decode()


def test_unauthenticated_is_401(alice_api: TenantApi) -> None:
    response = TenantApi(None).get("/assistants/echo")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or missing API key."}


# patch, versions, latest


def test_patch_makes_a_new_version(alice_api: TenantApi) -> None:
    assistant = create(alice_api, name="v1", config={"tags": ["a"]}, metadata={"a": 1, "b": 1})
    path = f"/assistants/{assistant['assistant_id']}"

    patched = alice_api.patch(path, {"metadata": {"b": 2}, "config": {"tags": ["b"]}})
    assert patched.status_code == 200, patched.content
    v2 = patched.json()
    assert v2["version"] == 2
    assert v2["metadata"] == {"a": 1, "b": 2}
    assert v2["config"] == {"tags": ["b"]}
    assert v2["name"] == "v1"
    assert alice_api.get(path).json() == v2

    v3 = alice_api.patch(path, {"name": "v3", "graph_id": "ticker"}).json()
    assert (v3["version"], v3["name"], v3["graph_id"]) == (3, "v3", "ticker")

    versions = alice_api.post(f"{path}/versions", {}).json()
    assert [(v["version"], v["name"], v["graph_id"]) for v in versions] == [
        (3, "v3", "ticker"),
        (2, "v1", "echo"),
        (1, "v1", "echo"),
    ]
    assert all("updated_at" not in v for v in versions)


def test_versions_filter_and_page(alice_api: TenantApi) -> None:
    path = f"/assistants/{create(alice_api, metadata={'stage': 'draft'})['assistant_id']}"
    alice_api.patch(path, {"metadata": {"stage": "live"}})
    alice_api.patch(path, {"name": "renamed"})

    def versions(**body: object) -> list[int]:
        return [v["version"] for v in alice_api.post(f"{path}/versions", body).json()]

    assert versions(metadata={"stage": "live"}) == [3, 2]
    assert versions(limit=1, offset=1) == [2]
    assert error_fields(alice_api.post(f"{path}/versions", {"limit": 0})) == {"limit"}


def test_latest_moves_the_current_version(alice_api: TenantApi) -> None:
    path = f"/assistants/{create(alice_api, name='first')['assistant_id']}"
    alice_api.patch(path, {"name": "second"})

    back = alice_api.post(f"{path}/latest", {"version": 1})
    assert back.status_code == 200
    assert (back.json()["version"], back.json()["name"]) == (1, "first")
    assert alice_api.get(path).json()["name"] == "first"

    # The next edit follows the highest version, not the current one.
    assert alice_api.patch(path, {"description": "d"}).json()["version"] == 3

    assert alice_api.post(f"{path}/latest", {"version": 9}).json() == NOT_FOUND
    assert error_fields(alice_api.post(f"{path}/latest", {})) == {"version"}
    assert error_fields(alice_api.post(f"{path}/latest", {"version": 0})) == {"version"}


def test_patch_rejects_bad_input(alice_api: TenantApi) -> None:
    path = f"/assistants/{create(alice_api)['assistant_id']}"
    assert error_fields(alice_api.patch(path, {"graph_id": "nope"})) == {"graph_id"}
    assert error_fields(alice_api.patch(path, {"metadata": [1]})) == {"metadata"}
    assert alice_api.get(path).json()["version"] == 1


# delete


def test_delete_keeps_threads_unless_asked(alice: TenantWithKey, alice_api: TenantApi) -> None:
    kept_with = create(alice_api)["assistant_id"]
    deleted_with = create(alice_api)["assistant_id"]
    for assistant_id in (kept_with, deleted_with):
        response = alice_api.post("/threads", {"metadata": {"assistant_id": assistant_id}})
        assert response.status_code == 200
    other_thread = alice_api.post("/threads", {}).json()["thread_id"]

    assert alice_api.delete(f"/assistants/{kept_with}").status_code == 204
    deleted = alice_api.delete(f"/assistants/{deleted_with}", delete_threads="true")
    assert deleted.status_code == 204

    assert alice_api.get(f"/assistants/{kept_with}").status_code == 404
    with tenant_scope(alice.tenant):
        assert not AssistantVersion.objects.filter(assistant_id=kept_with).exists()
        remaining = {str(t.metadata.get("assistant_id", t.thread_id)) for t in Thread.objects.all()}
    assert remaining == {kept_with, other_thread}


# search, count


@pytest.fixture
def three_assistants(alice_api: TenantApi) -> list[dict]:
    return [
        create(alice_api, name="Alpha helper", metadata={"team": "a", "cfg": {"x": 1, "y": 2}}),
        create(alice_api, name="Beta", graph_id="ticker", metadata={"team": "b"}),
        create(alice_api, name="Gamma HELPER", metadata={"team": "a"}),
    ]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [assistant["assistant_id"] for assistant in response.json()]


def test_search_filters(alice_api: TenantApi, three_assistants: list[dict]) -> None:
    alpha, beta, gamma = (a["assistant_id"] for a in three_assistants)

    def search(**body: object) -> list[str]:
        return ids(alice_api.post("/assistants/search", body))

    assert search(metadata={"team": "a"}) == [gamma, alpha]
    assert search(metadata={"cfg": {"x": 1, "y": 2}}) == [alpha]
    assert search(name="helper") == [gamma, alpha]
    assert search(graph_id="ticker", metadata={"team": "b"}) == [beta]
    assert len(search(limit=100)) == 3 + DEFAULTS
    assert len(search(metadata={"created_by": "system"}, limit=100)) == DEFAULTS


def test_search_pages_sorts_and_selects(alice_api: TenantApi, three_assistants: list[dict]) -> None:
    alpha, beta, gamma = (a["assistant_id"] for a in three_assistants)
    body = {"metadata": {"team": "a"}, "sort_by": "name", "sort_order": "asc", "limit": 1}
    first = alice_api.post("/assistants/search", body)
    assert ids(first) == [alpha]
    assert first.headers["X-Pagination-Next"] == "1"
    last = alice_api.post("/assistants/search", {**body, "offset": 1})
    assert ids(last) == [gamma]
    assert "X-Pagination-Next" not in last.headers

    selected = alice_api.post(
        "/assistants/search", {"metadata": {"team": "b"}, "select": ["assistant_id", "name"]}
    )
    assert selected.json() == [{"assistant_id": beta, "name": "Beta"}]


@pytest.mark.postgres
def test_search_matches_nested_metadata_by_containment(
    alice_api: TenantApi, three_assistants: list[dict]
) -> None:
    found = alice_api.post("/assistants/search", {"metadata": {"cfg": {"x": 1}}})
    assert ids(found) == [three_assistants[0]["assistant_id"]]


def test_search_rejects_bad_input(alice_api: TenantApi) -> None:
    assert error_fields(alice_api.post("/assistants/search", {"limit": 1001})) == {"limit"}
    assert error_fields(alice_api.post("/assistants/search", {"sort_by": "config"})) == {"sort_by"}
    assert error_fields(alice_api.post("/assistants/search", {"sort_order": "up"})) == {
        "sort_order"
    }
    assert error_fields(alice_api.post("/assistants/search", {"select": ["tenant"]})) == {0}


def test_count(alice_api: TenantApi, three_assistants: list[dict]) -> None:
    assert alice_api.post("/assistants/count", {}).json() == 3 + DEFAULTS
    assert alice_api.post("/assistants/count", {"metadata": {"team": "a"}}).json() == 2
    assert alice_api.post("/assistants/count", {"graph_id": "ticker"}).json() == 2
    assert alice_api.post("/assistants/count", {"name": "HELP"}).json() == 2
    assert error_fields(alice_api.post("/assistants/count", {"metadata": 1})) == {"metadata"}


def test_metadata_filter_without_json_containment(
    alice: TenantWithKey, three_assistants: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-key fallback SQLite uses, exercised on this database."""
    from apps.assistants.selectors import assistant_count

    monkeypatch.setattr(connection.features, "supports_json_field_contains", False)
    with tenant_scope(alice.tenant):
        assert assistant_count(metadata={"team": "a"}) == 2
        assert assistant_count(metadata={"team": "a", "cfg": {"x": 1, "y": 2}}) == 1
        assert assistant_count(metadata={"team": "c"}) == 0
        assert Assistant.objects.count() == 3 + DEFAULTS


# graph, schemas, subgraphs


def test_graph_drawing(alice_api: TenantApi) -> None:
    drawing = alice_api.get("/assistants/echo/graph")
    assert drawing.status_code == 200
    nodes = {node["id"] for node in drawing.json()["nodes"]}
    assert nodes == {"__start__", "respond", "__end__"}
    assert {"source": "__start__", "target": "respond"} in drawing.json()["edges"]
    assert alice_api.get("/assistants/echo/graph", xray="true").status_code == 200
    assert alice_api.get("/assistants/echo/graph", xray=2).status_code == 200


def test_schemas(alice_api: TenantApi) -> None:
    schemas = alice_api.get(
        f"/assistants/{create(alice_api, graph_id='burst')['assistant_id']}/schemas"
    )
    assert schemas.status_code == 200
    body = schemas.json()
    assert set(body) == {
        "graph_id",
        "input_schema",
        "output_schema",
        "state_schema",
        "config_schema",
        "context_schema",
    }
    assert body["graph_id"] == "burst"
    assert set(body["state_schema"]["properties"]) == {"messages", "n", "emitted"}
    assert "messages" in body["input_schema"]["properties"]
    assert body["config_schema"]["type"] == "object"


def test_subgraphs(alice_api: TenantApi) -> None:
    assert alice_api.get("/assistants/echo/subgraphs").json() == {}
    subgraphs = alice_api.get("/assistants/nested/subgraphs", recurse="true")
    assert subgraphs.status_code == 200
    assert set(subgraphs.json()) == {"inner"}
    inner = subgraphs.json()["inner"]
    assert set(inner["state_schema"]["properties"]) == {"topic", "draft", "final"}
    assert set(alice_api.get("/assistants/nested/subgraphs/inner").json()) == {"inner"}
    assert alice_api.get("/assistants/nested/subgraphs/elsewhere").json() == {}


def test_graph_drawing_with_xray_shows_subgraph_nodes(alice_api: TenantApi) -> None:
    flat = alice_api.get("/assistants/nested/graph").json()
    deep = alice_api.get("/assistants/nested/graph", xray="true").json()
    assert "inner" in {node["id"] for node in flat["nodes"]}
    assert {"inner:draft", "inner:polish"} <= {node["id"] for node in deep["nodes"]}
