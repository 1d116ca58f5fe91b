from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from apps.apikeys.hashing import digests_match, generate_key, parse_key
from apps.apikeys.models import ApiKey
from apps.tenancy.models import Tenant

LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str


def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    created_by: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
) -> CreatedKey:
    material = generate_key()
    key = ApiKey.unscoped_all_tenants.create(
        tenant=tenant,
        key_id=material.key_id,
        secret_hmac=material.secret_hmac,
        name=name,
        created_by=created_by,
        expires_at=expires_at,
    )
    return CreatedKey(key=key, plaintext=material.plaintext)


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """The auth door: the live key that `raw` spells, or None for any failure.

    Malformed, unknown, wrong, revoked and expired keys are not told apart: callers
    answer all of them with the same 401.
    """
    parsed = parse_key(raw)
    if parsed is None:
        return None
    key = ApiKey.unscoped_all_tenants.select_related("tenant").filter(key_id=parsed.key_id).first()
    if key is None or not digests_match(parsed.secret, key.secret_hmac):
        return None
    now = timezone.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    _touch_last_used(key, now)
    return key


def _touch_last_used(key: ApiKey, now: datetime) -> None:
    """Record use at most once a minute, so auth does not write on every request."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_GRANULARITY:
        return
    ApiKey.unscoped_all_tenants.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
