from __future__ import annotations

import json
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from pytest_django.fixtures import Settings

from apps.apikeys.models import ApiKey
from apps.apikeys.services import api_key_authenticate
from apps.tenancy.models import Membership, Tenant
from tests.live import ROOT, child_env


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_create_tenant_prints_a_working_key_last_and_refuses_a_duplicate_slug() -> None:
    created = manage("create_tenant", "acme", "--name", "Acme Corp")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    authenticated = api_key_authenticate(raw=key)
    assert authenticated is not None
    assert (authenticated.tenant.slug, authenticated.tenant.name) == ("acme", "Acme Corp")

    duplicate = manage("create_tenant", "acme")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    assert "ahk_" not in duplicate.stdout
    assert Tenant.objects.filter(slug="acme").count() == 1


@pytest.mark.django_db(transaction=True)
def test_create_tenant_refuses_a_bad_slug() -> None:
    refused = manage("create_tenant", "Not A Slug")
    assert refused.returncode == 1
    assert "not a slug" in refused.stderr
    assert not Tenant.objects.exists()


@pytest.fixture
def state_file(tmp_path: Path, settings: Settings) -> Path:
    # The production hasher is slow on purpose; these tests only need it to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STATE_DIR = tmp_path / "state"
    return settings.STATE_DIR / "demo.json"


def bootstrap_demo() -> dict[str, str]:
    """What the command printed: tenant, login and key."""
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    lines = (line.split(":", 1) for line in out.getvalue().splitlines())
    return {name.strip(): value.strip() for name, value in lines}


def assert_works(printed: dict[str, str]) -> None:
    username, password = printed["login"].split(" / ")
    user = get_user_model().objects.get(username=username)
    assert user.check_password(password)
    assert user.is_superuser
    assert user.is_staff
    key = api_key_authenticate(raw=printed["key"])
    assert key is not None
    assert key.tenant.slug == printed["tenant"] == "demo"
    assert Membership.objects.filter(user=user, tenant=key.tenant).exists()


def test_bootstrap_demo_creates_a_superuser_and_key_kept_private(
    db: None, state_file: Path
) -> None:
    printed = bootstrap_demo()
    assert_works(printed)
    assert printed["login"].startswith("demo / ")
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert json.loads(state_file.read_text())["api_key"] == printed["key"]


def test_bootstrap_demo_is_idempotent(db: None, state_file: Path) -> None:
    first = bootstrap_demo()
    assert bootstrap_demo() == first
    assert Tenant.objects.filter(slug="demo").count() == 1
    assert ApiKey.unscoped_all_tenants.filter(tenant__slug="demo").count() == 1


def test_bootstrap_demo_replaces_secrets_that_were_lost(db: None, state_file: Path) -> None:
    first = bootstrap_demo()
    state_file.unlink()
    again = bootstrap_demo()
    assert again["login"] != first["login"]
    assert again["key"] != first["key"]
    assert_works(again)


def test_bootstrap_demo_repairs_a_state_file_from_another_database(
    db: None, state_file: Path
) -> None:
    stale = bootstrap_demo()
    Tenant.objects.filter(slug="demo").delete()
    get_user_model().objects.filter(username="demo").delete()
    fresh = bootstrap_demo()
    assert fresh["key"] != stale["key"]
    assert_works(fresh)
