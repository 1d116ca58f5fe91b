"""Helpers for the run engine's tests: start runs through the services, read streams."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from agenthost.redis import sync_redis
from apps.assistants.selectors import assistant_resolve
from apps.runs.engine.checkpointer import open_sync_checkpointer
from apps.runs.events import END_EVENT, FIELD_DATA, FIELD_EVENT, events_key
from apps.runs.models import Run
from apps.runs.schemas import RunCreate
from apps.runs.services import run_create
from apps.tenancy.models import Tenant
from apps.tenancy.scope import tenant_scope
from apps.threads.models import Thread
from apps.threads.services import thread_create


@dataclass(frozen=True)
class Event:
    id: str
    event: str
    data: Any


def new_thread(tenant: Tenant) -> Thread:
    with tenant_scope(tenant):
        return thread_create()


def start_run(tenant: Tenant, graph_id: str, *, thread: Thread | None = None, **body: Any) -> Run:
    """Create a run as the API would (no thread: a stateless run)."""
    with tenant_scope(tenant):
        assistant = assistant_resolve(assistant_id=graph_id)
        payload = RunCreate(assistant_id=graph_id, **body)
        return run_create(assistant=assistant, thread=thread, payload=payload)


def _decode(entry_id: bytes, fields: dict[bytes, bytes]) -> Event:
    return Event(
        id=entry_id.decode(),
        event=fields[FIELD_EVENT].decode(),
        data=orjson.loads(fields[FIELD_DATA]),
    )


def read_events(
    run_id: Any, *, until: str | Callable[[list[Event]], bool] = END_EVENT, timeout: float = 20.0
) -> list[Event]:
    """The run's stream events up to the first `until` event (or until `until(events)`
    holds), read as they arrive.

    After ``end`` it also waits for the worker to settle the run (archive or delete
    it), so the test's database teardown never races the worker's last writes.
    """
    client = sync_redis()
    key = events_key(run_id)
    events: list[Event] = []
    cursor = "0-0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = client.xread({key: cursor}, count=10_000, block=200)
        for _, entries in reply or []:
            for entry_id, fields in entries:
                cursor = entry_id.decode()
                events.append(_decode(entry_id, fields))
                if events[-1].event == END_EVENT and until == END_EVENT:
                    wait_settled(run_id, timeout=deadline - time.monotonic())
                    return events
                if until(events) if callable(until) else events[-1].event == until:
                    return events
    raise AssertionError(f"no {until!r} event within {timeout}s; got {events[-5:]}")


def wait_settled(run_id: Any, *, timeout: float = 10.0) -> None:
    """Wait until the ended run is archived or deleted (the worker's last step).

    Archiving follows ``end`` and signals nothing a test could block on, so this
    checks the row at a short interval.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Run.unscoped_all_tenants.filter(pk=run_id).values_list("events_archived").first()
        if row is None or row[0]:
            return
        time.sleep(0.01)
    raise AssertionError(f"run {run_id} was not archived within {timeout}s")


def customs(events: list[Event]) -> list[Any]:
    return [event.data for event in events if event.event == "custom"]


def checkpoint_run_ids(thread_id: Any) -> set[str]:
    """The runs that wrote the thread's checkpoints."""
    with open_sync_checkpointer() as saver:
        config = {"configurable": {"thread_id": str(thread_id)}}
        return {c.metadata.get("run_id") for c in saver.list(config)}


def run_row(tenant: Tenant, run_id: Any) -> Run | None:
    with tenant_scope(tenant):
        return Run.objects.filter(pk=run_id).first()


def thread_row(tenant: Tenant, thread_id: Any) -> Thread:
    with tenant_scope(tenant):
        return Thread.objects.get(pk=thread_id)
