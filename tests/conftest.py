from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from ninja.testing import TestClient

from agenthost.redis import sync_redis
from apps.graphs.catalogue import graph_specs, load_graph
from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_create
from tests.apiclient import TenantApi
from tests.live import Process, WebServer, running_web_server, running_worker

TEST_GRAPHS = Path(__file__).resolve().parent / "graphs" / "langgraph.json"


def pytest_configure(config: pytest.Config) -> None:
    """Serve the test catalogue, in this process and in every child process."""
    settings.AGENTHOST_GRAPHS = str(TEST_GRAPHS)
    graph_specs.cache_clear()
    load_graph.cache_clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL is SQLite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@dataclass
class TenantWithKey:
    tenant: Tenant
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.key}


@pytest.fixture(scope="session", autouse=True)
def _clean_redis() -> None:
    sync_redis().flushdb()


@pytest.fixture
def alice(db: None) -> TenantWithKey:
    created = tenant_create(slug="alice", name="Alice Inc")
    return TenantWithKey(tenant=created.tenant, key=created.first_key.plaintext)


@pytest.fixture
def bob(db: None) -> TenantWithKey:
    created = tenant_create(slug="bob", name="Bob Ltd")
    return TenantWithKey(tenant=created.tenant, key=created.first_key.plaintext)


@pytest.fixture
def alice_api(alice: TenantWithKey) -> TenantApi:
    """/api as alice, through Django's test client (middleware included)."""
    return TenantApi(alice.key)


@pytest.fixture
def bob_api(bob: TenantWithKey) -> TenantApi:
    return TenantApi(bob.key)


@pytest.fixture
def api_client() -> TestClient:
    from agenthost.api import api

    return TestClient(api)


@pytest.fixture(scope="session")
def web_server(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[WebServer]:
    """A real Daphne process on the test database, shared by the session."""
    with django_db_blocker.unblock():
        connection.ensure_connection()
        with running_web_server() as server:
            yield server


@pytest.fixture(scope="session")
def worker(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[Process]:
    """A real Celery worker process on the test database and Redis, shared by the session."""
    with django_db_blocker.unblock(), running_worker() as process:
        yield process


@pytest.fixture
def live_alice(transactional_db: None) -> TenantWithKey:
    created = tenant_create(slug="alice", name="Alice Inc")
    return TenantWithKey(tenant=created.tenant, key=created.first_key.plaintext)


@pytest.fixture
def live_bob(transactional_db: None) -> TenantWithKey:
    created = tenant_create(slug="bob", name="Bob Ltd")
    return TenantWithKey(tenant=created.tenant, key=created.first_key.plaintext)
