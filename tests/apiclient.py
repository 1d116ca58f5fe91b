"""Django's test client speaking to /api as one tenant, so the middleware runs as in production."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.test import Client


class TenantApi:
    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.headers = {"X-Api-Key": key} if key else {}

    @staticmethod
    def _url(path: str, query: dict[str, Any]) -> str:
        return f"/api{path}?{urlencode(query)}" if query else f"/api{path}"

    def get(self, path: str, **query: Any) -> HttpResponse:
        return self.client.get(self._url(path, query), headers=self.headers)

    def post(self, path: str, body: Any = None, **query: Any) -> HttpResponse:
        return self.client.post(
            self._url(path, query),
            data={} if body is None else body,
            content_type="application/json",
            headers=self.headers,
        )

    def post_raw(self, path: str, content: bytes) -> HttpResponse:
        return self.client.post(
            self._url(path, {}), data=content, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: Any, **headers: str) -> HttpResponse:
        return self.client.patch(
            self._url(path, {}),
            data=body,
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def delete(self, path: str, **query: Any) -> HttpResponse:
        return self.client.delete(self._url(path, query), headers=self.headers)
