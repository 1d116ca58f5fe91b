"""Runs: create, stream, wait, join, cancel, list, get and delete (LangGraph-compatible).

Streaming routes are async views: they authenticate, load everything they need and
hand their database connection back before the response starts; the body then reads
only Redis (see ``apps.runs.sse``). ``Location`` and ``Content-Location`` are relative
to the API root, as the SDKs resolve them against their base URL.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any, Literal

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from pydantic import model_validator

from apps.assistants.models import Assistant
from apps.assistants.selectors import assistant_resolve
from apps.common.search import shaped
from apps.graphs.catalogue import graph_specs
from apps.runs.models import Run
from apps.runs.schemas import CancelAction, RunCreate, RunOut, RunStatus, StreamMode
from apps.runs.selectors import run_events_after, run_get, run_list, runs_in_flight
from apps.runs.services import (
    RunNotCancellable,
    ThreadBusy,
    run_cancel,
    run_create,
    run_delete,
    run_final_output,
)
from apps.runs.sse import (
    Action,
    EventSource,
    open_run_end,
    open_run_events,
    sse_body,
    sse_response,
    wait_body,
    wait_response,
)
from apps.tenancy.models import Tenant
from apps.tenancy.scope import tenant_scope
from apps.threads.selectors import thread_get
from apps.threads.services import ThreadExists, thread_create

router = Router(tags=["runs"])

STREAM_MODES: frozenset[str] = frozenset(StreamMode.__args__)  # type: ignore[attr-defined]
THREAD_BUSY = (
    "Thread is already running a task. Wait for it to finish or choose a different "
    "multitask strategy."
)


class RunCancelMany(Schema):
    thread_id: uuid.UUID | None = None
    run_ids: list[uuid.UUID] | None = None
    status: Literal["pending", "running", "all"] | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> RunCancelMany:
        by_ids = self.thread_id is not None or self.run_ids is not None
        if by_ids == (self.status is not None):
            raise ValueError("give either thread_id (and run_ids) or status")
        if self.run_ids is not None and self.thread_id is None:
            raise ValueError("run_ids needs thread_id")
        return self


class RunListQuery(Schema):
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)
    status: RunStatus | None = None
    select: list[str] | None = None


# -- helpers -----------------------------------------------------------------------------


def run_path(run: Run) -> str:
    """The run's resource path (what ``Content-Location`` names)."""
    if run.stateless or run.thread_id is None:
        return f"/runs/{run.run_id}"
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


def _create(*, thread_id: str | None, payload: RunCreate) -> Run:
    """Resolve the thread and the assistant, then create the run (stateless without a
    thread id)."""
    thread = None
    if thread_id is None and payload.command is not None and payload.command.resume is not None:
        raise HttpError(400, "You must provide a thread_id when resuming.")
    if thread_id is not None:
        try:
            thread = thread_get(thread_id=thread_id)
        except Http404:
            if payload.if_not_exists != "create":
                raise
            try:
                thread = thread_create(thread_id=uuid.UUID(thread_id))
            except (ValueError, ThreadExists):
                raise Http404("Thread not found.") from None
    try:
        assistant = assistant_resolve(assistant_id=payload.assistant_id)
    except Assistant.DoesNotExist:
        graphs = ", ".join(sorted(graph_specs()))
        raise HttpError(
            422,
            f"Invalid assistant: '{payload.assistant_id}'. Must be either an assistant id "
            f"(UUID) or a graph name ({graphs}).",
        ) from None
    try:
        return run_create(
            assistant=assistant, thread=thread, payload=payload, stateless=thread is None
        )
    except ThreadBusy as exc:
        raise HttpError(409, str(exc) or THREAD_BUSY) from None


def _tenant(request: HttpRequest) -> Tenant:
    return request.auth.tenant  # type: ignore[attr-defined]


def _later(request: HttpRequest, fn: Callable[..., Any], /, **kwargs: Any) -> Action:
    """`fn(**kwargs)` to await later in this request's tenant scope.

    Response bodies run after the request's scope was reset, so they re-enter it.
    """
    tenant = _tenant(request)

    def call() -> Any:
        with tenant_scope(tenant):
            return fn(**kwargs)

    return lambda: sync_to_async(call)()


def _final_output(*, run_id: uuid.UUID) -> dict[str, Any]:
    try:
        run = run_get(run_id=run_id)
    except Http404:
        # Rolled back, or a stateless run deleted on completion.
        return {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
    return run_final_output(run=run)


def _cancel_quietly(*, run: Run, action: str = "interrupt") -> None:
    """Cancel unless the run already stopped (leaving clients race with the end)."""
    with contextlib.suppress(RunNotCancellable):
        run_cancel(run=run, action=action)


def _close_db() -> None:
    connection.close()  # resolved in the thread that owns the request's connection


async def _release_db() -> None:
    """Give the request's database connection back: a stream may last for hours."""
    await sync_to_async(_close_db)()


def _cursor(request: HttpRequest) -> str | None:
    return request.headers.get("Last-Event-ID") or request.GET.get("lastEventId")


def _stream_modes(request: HttpRequest) -> list[str] | None:
    """``stream_mode`` as one value, repeated, or a JSON array string; None is all."""
    modes: list[str] = []
    for raw in request.GET.getlist("stream_mode"):
        value: Any = raw
        if raw.strip().startswith("["):
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                value = raw
        for mode in value if isinstance(value, list) else [value]:
            if mode in ("", None):
                continue
            if mode not in STREAM_MODES:
                raise ValidationError(
                    [
                        {
                            "loc": ["query", "stream_mode"],
                            "msg": f"Invalid stream_mode: {mode!r}; one of "
                            + ", ".join(sorted(STREAM_MODES)),
                            "type": "literal_error",
                        }
                    ]
                )
            modes.append(mode)
    return modes or None


def _heartbeat() -> float:
    return settings.AGENTHOST_SSE_HEARTBEAT_SECONDS


def _keepalive() -> float:
    return settings.AGENTHOST_WAIT_KEEPALIVE_SECONDS


async def _serve_events(
    request: HttpRequest,
    run: Run,
    source: EventSource,
    *,
    modes: list[str] | None = None,
    cancel_on_disconnect: bool,
) -> StreamingHttpResponse:
    await _release_db()
    body = sse_body(
        source,
        modes=modes,
        heartbeat_seconds=_heartbeat(),
        on_disconnect=_later(request, _cancel_quietly, run=run) if cancel_on_disconnect else None,
    )
    path = run_path(run)
    return sse_response(body, headers={"Location": f"{path}/stream", "Content-Location": path})


async def _serve_output(
    request: HttpRequest, run: Run, *, cancel_on_disconnect: bool
) -> HttpResponse | StreamingHttpResponse:
    path = run_path(run)
    headers = {"Location": f"{path}/join", "Content-Location": path}
    final_output = _later(request, _final_output, run_id=run.run_id)
    if run.is_terminal:
        body = orjson.dumps(await final_output())
        return HttpResponse(body, content_type="application/json", headers=headers)
    source = open_run_end(run=run)
    await _release_db()
    body_iter = wait_body(
        source,
        final_output=final_output,
        keepalive_seconds=_keepalive(),
        on_disconnect=_later(request, _cancel_quietly, run=run) if cancel_on_disconnect else None,
    )
    return wait_response(body_iter, headers=headers)


async def _stream_new(
    request: HttpRequest, thread_id: str | None, payload: RunCreate
) -> StreamingHttpResponse:
    run = await sync_to_async(_create)(thread_id=thread_id, payload=payload)
    source = await open_run_events(run=run, after=None, load_archive=_no_archive)
    return await _serve_events(
        request, run, source, cancel_on_disconnect=payload.on_disconnect == "cancel"
    )


async def _no_archive(cursor: str) -> list[Any]:
    return []  # a run created by this request has not been archived


async def _wait_new(
    request: HttpRequest, thread_id: str | None, payload: RunCreate
) -> HttpResponse | StreamingHttpResponse:
    run = await sync_to_async(_create)(thread_id=thread_id, payload=payload)
    return await _serve_output(request, run, cancel_on_disconnect=payload.on_disconnect == "cancel")


def _background_new(thread_id: str | None, payload: RunCreate, response: HttpResponse) -> Run:
    run = _create(thread_id=thread_id, payload=payload)
    response["Content-Location"] = run_path(run)
    return run


async def _join_events(
    request: HttpRequest,
    run_id: str,
    thread_id: str | None,
    *,
    cancel_on_disconnect: bool,
    action: CancelAction | None,
) -> StreamingHttpResponse:
    modes = _stream_modes(request)
    run = await sync_to_async(run_get)(run_id=run_id, thread_id=thread_id)
    if action is not None:
        await sync_to_async(_cancel_quietly)(run=run, action=action)
    source = await open_run_events(
        run=run,
        after=_cursor(request),
        load_archive=lambda cursor: sync_to_async(run_events_after)(run=run, after=cursor),
    )
    return await _serve_events(
        request, run, source, modes=modes, cancel_on_disconnect=cancel_on_disconnect
    )


async def _join_output(
    request: HttpRequest, run_id: str, thread_id: str | None, *, cancel_on_disconnect: bool
) -> HttpResponse | StreamingHttpResponse:
    run = await sync_to_async(run_get)(run_id=run_id, thread_id=thread_id)
    return await _serve_output(request, run, cancel_on_disconnect=cancel_on_disconnect)


# -- routes on a thread ------------------------------------------------------------------
# Literal paths come before "{run_id}" ones: the first matching path takes every method.


@router.post("/threads/{thread_id}/runs/stream")
async def stream_run(request: HttpRequest, thread_id: str, payload: RunCreate) -> Any:
    return await _stream_new(request, thread_id, payload)


@router.post("/threads/{thread_id}/runs/wait")
async def wait_run(request: HttpRequest, thread_id: str, payload: RunCreate) -> Any:
    return await _wait_new(request, thread_id, payload)


@router.post("/threads/{thread_id}/runs", response=RunOut)
def create_run(
    request: HttpRequest, thread_id: str, payload: RunCreate, response: HttpResponse
) -> Any:
    return _background_new(thread_id, payload, response)


@router.get("/threads/{thread_id}/runs", response=list[dict[str, Any]])
def list_runs(request: HttpRequest, thread_id: str, query: Query[RunListQuery]) -> Any:
    thread = thread_get(thread_id=thread_id)
    runs = run_list(thread=thread, limit=query.limit, offset=query.offset, status=query.status)
    return shaped(RunOut, runs, query.select)


@router.get("/threads/{thread_id}/runs/{run_id}", response=RunOut)
def get_run(request: HttpRequest, thread_id: str, run_id: str) -> Any:
    return run_get(run_id=run_id, thread_id=thread_id)


@router.delete("/threads/{thread_id}/runs/{run_id}", response={204: None})
def delete_run(request: HttpRequest, thread_id: str, run_id: str) -> Any:
    run_delete(run=run_get(run_id=run_id, thread_id=thread_id))
    return 204, None


@router.api_operation(["GET", "POST"], "/threads/{thread_id}/runs/{run_id}/stream")
async def join_run_stream(
    request: HttpRequest,
    thread_id: str,
    run_id: str,
    cancel_on_disconnect: bool = False,
    action: CancelAction | None = None,
) -> Any:
    return await _join_events(
        request, run_id, thread_id, cancel_on_disconnect=cancel_on_disconnect, action=action
    )


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(
    request: HttpRequest, thread_id: str, run_id: str, cancel_on_disconnect: bool = False
) -> Any:
    return await _join_output(request, run_id, thread_id, cancel_on_disconnect=cancel_on_disconnect)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel")
async def cancel_run(
    request: HttpRequest,
    thread_id: str,
    run_id: str,
    wait: bool = False,
    action: CancelAction = "interrupt",
) -> Any:
    run = await sync_to_async(run_get)(run_id=run_id, thread_id=thread_id)
    try:
        await sync_to_async(run_cancel)(run=run, action=action)
    except RunNotCancellable:
        raise HttpError(404, "No matching runs to cancel.") from None
    if not wait:
        return HttpResponse(status=202)
    return await _serve_output(request, run, cancel_on_disconnect=False)


# -- stateless runs and bulk cancel ------------------------------------------------------


@router.post("/runs/stream")
async def stream_stateless_run(request: HttpRequest, payload: RunCreate) -> Any:
    return await _stream_new(request, None, payload)


@router.post("/runs/wait")
async def wait_stateless_run(request: HttpRequest, payload: RunCreate) -> Any:
    return await _wait_new(request, None, payload)


@router.post("/runs/cancel", response={204: None})
def cancel_runs(
    request: HttpRequest, payload: RunCancelMany, action: CancelAction = "interrupt"
) -> Any:
    runs = runs_in_flight(
        thread_id=payload.thread_id, run_ids=payload.run_ids, status=payload.status
    )
    if not runs:
        raise HttpError(404, "No runs found to cancel.")
    for run in runs:
        _cancel_quietly(run=run, action=action)
    return 204, None


@router.post("/runs", response=RunOut)
def create_stateless_run(request: HttpRequest, payload: RunCreate, response: HttpResponse) -> Any:
    return _background_new(None, payload, response)


@router.get("/runs/{run_id}/stream")
async def join_stateless_run_stream(
    request: HttpRequest, run_id: str, cancel_on_disconnect: bool = False
) -> Any:
    return await _join_events(
        request, run_id, None, cancel_on_disconnect=cancel_on_disconnect, action=None
    )


@router.get("/runs/{run_id}/join")
async def join_stateless_run(
    request: HttpRequest, run_id: str, cancel_on_disconnect: bool = False
) -> Any:
    return await _join_output(request, run_id, None, cancel_on_disconnect=cancel_on_disconnect)
