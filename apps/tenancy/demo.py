"""The demo tenant that `make run` creates on first start and prints on every start."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from apps.apikeys.services import api_key_authenticate, api_key_create
from apps.assistants.services import assistant_ensure_defaults
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.services import tenant_create

DEMO_SLUG = "demo"
DEMO_USERNAME = "demo"


@dataclass(frozen=True)
class DemoCredentials:
    tenant_slug: str
    username: str
    password: str
    api_key: str


def _stored(state_file: Path) -> DemoCredentials | None:
    try:
        return DemoCredentials(**json.loads(state_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _store(state_file: Path, credentials: DemoCredentials) -> None:
    """Write through a 0600 temporary file and rename, so the secrets are never readable
    by others, not even for a moment, and a crash leaves the old file whole."""
    state_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = state_file.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(credentials), out)
    os.replace(partial, state_file)


def _demo_superuser(stored_password: str | None) -> tuple[AbstractUser, str]:
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    if stored_password and user.check_password(stored_password):
        password = stored_password
    else:
        password = secrets.token_urlsafe(12)
        user.set_password(password)
    user.is_staff = user.is_superuser = user.is_active = True
    user.save()
    return user, password


def demo_bootstrap(*, state_file: Path) -> DemoCredentials:
    """Create whatever is missing of the demo tenant, its superuser and an API key.

    The password and key are kept in `state_file` (mode 0600) so that later starts can
    print them again. Idempotent: what is stored and still works is kept; a password or
    key that no longer works (a fresh database, another SECRET_KEY) is replaced.
    """
    stored = _stored(state_file)
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if tenant is None:
            created = tenant_create(slug=DEMO_SLUG, name="Demo")
            tenant, api_key = created.tenant, created.first_key.plaintext
        else:
            assistant_ensure_defaults(tenant=tenant)
            live = api_key_authenticate(raw=stored.api_key) if stored else None
            if live is not None and live.tenant_id == tenant.pk:
                api_key = stored.api_key
            else:
                api_key = api_key_create(tenant=tenant, name="demo key").plaintext
        user, password = _demo_superuser(stored.password if stored else None)
        Membership.objects.get_or_create(
            user=user, tenant=tenant, defaults={"role": Membership.Role.OWNER}
        )
    credentials = DemoCredentials(
        tenant_slug=tenant.slug, username=user.get_username(), password=password, api_key=api_key
    )
    if credentials != stored:
        _store(state_file, credentials)
    return credentials
