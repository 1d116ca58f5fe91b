"""The tenant API at /api: one NinjaAPI, one router per app, JSON errors only."""

from __future__ import annotations

import logging
import platform
from importlib.metadata import PackageNotFoundError, version

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from apps.apikeys.api import router as keys_router
from apps.apikeys.auth import ApiKeyAuth
from apps.assistants.api import router as assistants_router
from apps.runs.api import router as runs_router
from apps.threads.api import router as threads_router
from apps.threads.state_api import router as thread_state_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="agenthost",
    version="1",
    auth=ApiKeyAuth(),
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("/keys", keys_router)
api.add_router("/assistants", assistants_router)
api.add_router("/threads", threads_router)
api.add_router("/threads", thread_state_router)
api.add_router("", runs_router)


def _installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


@api.get("/ok", auth=None, include_in_schema=False)
def ok(request: HttpRequest) -> dict[str, object]:
    return {"ok": True}


@api.get("/info", auth=None)
def info(request: HttpRequest) -> dict[str, object]:
    return {
        "version": _installed("agenthost"),
        "langgraph_py_version": _installed("langgraph"),
        "python": platform.python_version(),
        "django": _installed("django"),
        "flags": {"assistants": True, "crons": False, "langsmith": False},
    }


def error(status: int, detail: object) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(401, "Invalid or missing API key.")


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error(422, exc.errors)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(404, str(exc) or "Not found.")


@api.exception_handler(ObjectDoesNotExist)
def on_does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return error(404, "Not found.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja answers a body it cannot parse with 400, chained to the decoder's ValueError;
    # LangGraph Platform answers 422 with this text.
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        return error(422, "Invalid JSON in request body")
    return error(exc.status_code, exc.message)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return error(500, "Internal server error.")


def api_not_found(request: HttpRequest) -> HttpResponse:
    return error(404, "Not found.")
