"""Request and response shapes of the API keys API. No response ever carries a secret,
except the one that creates a key: it shows the plaintext once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from ninja import Schema
from pydantic import Field, field_validator

from apps.common.schemas import RequestBody


class ApiKeyCreateIn(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= timezone.now():
            raise ValueError("must be in the future")
        return value


class ApiKeyOut(Schema):
    id: UUID
    name: str
    prefix: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @field_validator("created_by", mode="before")
    @classmethod
    def _username(cls, user: Any) -> Any:
        return user.get_username() if isinstance(user, AbstractBaseUser) else user


class ApiKeyCreatedOut(ApiKeyOut):
    key: str
