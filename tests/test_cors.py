"""CORS for browser clients (the SDK's React hook) on another origin."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tests.conftest import TenantWithKey

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.com"


@pytest.fixture
def cors(settings: Settings) -> Client:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    return Client()


@pytest.mark.django_db
def test_preflight_allows_the_sdk_headers_for_an_allowed_origin(cors: Client) -> None:
    response = cors.options(
        "/api/threads/00000000-0000-4000-8000-000000000000/runs/stream",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key, content-type, last-event-id",
        },
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-api-key", "authorization", "content-type", "last-event-id"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


@pytest.mark.django_db
def test_preflight_from_another_origin_gets_no_grant(cors: Client) -> None:
    response = cors.options(
        "/api/threads",
        headers={"Origin": REFUSED, "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in response


def test_responses_expose_the_run_locations_to_allowed_origins_only(
    cors: Client, alice: TenantWithKey
) -> None:
    headers = {**alice.headers, "Origin": ALLOWED}
    response = cors.get("/api/threads/00000000-0000-4000-8000-000000000000/runs", headers=headers)
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"content-location", "location"} <= exposed

    refused = cors.get(
        "/api/threads/00000000-0000-4000-8000-000000000000/runs",
        headers={**alice.headers, "Origin": REFUSED},
    )
    assert "Access-Control-Allow-Origin" not in refused
