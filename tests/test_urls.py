from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import TenantWithKey

NOT_FOUND = {"detail": "Not found."}


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_paths_answer_a_json_404_even_with_csrf_enforced(
    db: None, alice: TenantWithKey, method: str
) -> None:
    # A browser-like client: CSRF is enforced and no CSRF cookie is sent.
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(
        "/api/no/such/route", data={}, content_type="application/json", headers=alice.headers
    )
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_a_foreign_thread_answers_like_a_missing_one(
    db: None, alice: TenantWithKey, bob: TenantWithKey
) -> None:
    client = Client()
    created = client.post(
        "/api/threads", data={}, content_type="application/json", headers=alice.headers
    )
    assert created.status_code == 200, created.content
    foreign = client.get(f"/api/threads/{created.json()['thread_id']}", headers=bob.headers)
    missing = client.get("/api/threads/00000000-0000-0000-0000-000000000000", headers=bob.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
