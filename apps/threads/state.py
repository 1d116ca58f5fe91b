"""A thread's state from the checkpointer: read it, list its history, update it.

Shapes follow ``langgraph_sdk.schema.ThreadState``. The graph is the one the thread's
runs used (``metadata.graph_id``, set when a run is created); a thread that never ran
has an empty state and no history. The thread id in a checkpoint a client sends is
always replaced by the thread's own, so a client can only read the thread it was
allowed to open.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot

from apps.graphs.catalogue import graph_specs, load_graph
from apps.runs.engine.checkpointer import open_sync_checkpointer
from apps.runs.engine.serde import to_jsonable
from apps.runs.services import ThreadBusy
from apps.threads.models import Thread


class ThreadWithoutGraph(Exception):
    """The thread never ran, so no graph gives its state a shape."""


def _graph_id(thread: Thread) -> str | None:
    graph_id = thread.metadata.get("graph_id")
    return graph_id if isinstance(graph_id, str) and graph_id in graph_specs() else None


def _config(thread: Thread, checkpoint: dict[str, Any] | None = None) -> RunnableConfig:
    given = {key: value for key, value in (checkpoint or {}).items() if value is not None}
    return {"configurable": {**given, "thread_id": str(thread.thread_id)}}


def _checkpoint_out(config: RunnableConfig | None) -> dict[str, Any] | None:
    if not config:
        return None
    configurable = config.get("configurable", {})
    return {
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "checkpoint_map": configurable.get("checkpoint_map"),
    }


def _task_out(task: Any) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "error": repr(task.error) if task.error is not None else None,
        "interrupts": list(task.interrupts),
        "checkpoint": _checkpoint_out(task.state) if isinstance(task.state, dict) else None,
        "state": _state_out(task.state) if isinstance(task.state, StateSnapshot) else None,
        "result": task.result,
    }


def _state_out(snapshot: StateSnapshot) -> dict[str, Any]:
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "tasks": [_task_out(task) for task in snapshot.tasks],
        "metadata": snapshot.metadata or {},
        "created_at": snapshot.created_at,
        "checkpoint": _checkpoint_out(snapshot.config),
        "parent_checkpoint": _checkpoint_out(snapshot.parent_config),
        "interrupts": list(snapshot.interrupts),
    }


def _empty_state(thread: Thread) -> dict[str, Any]:
    return {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": {},
        "created_at": None,
        "checkpoint": _checkpoint_out(_config(thread)),
        "parent_checkpoint": None,
        "interrupts": [],
    }


def thread_state_get(
    *, thread: Thread, checkpoint: dict[str, Any] | None = None, subgraphs: bool = False
) -> dict[str, Any]:
    """The thread's state at `checkpoint` (default: the latest), as ThreadState."""
    graph_id = _graph_id(thread)
    if graph_id is None:
        return _empty_state(thread)
    with open_sync_checkpointer() as saver:
        graph = load_graph(graph_id).copy(update={"checkpointer": saver})
        snapshot = graph.get_state(_config(thread, checkpoint), subgraphs=subgraphs)
        return to_jsonable(_state_out(snapshot))


def thread_history_list(
    *,
    thread: Thread,
    limit: int = 10,
    before: str | dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The thread's states, newest first, as ThreadState."""
    graph_id = _graph_id(thread)
    if graph_id is None:
        return []
    if isinstance(before, str):
        before = {"checkpoint_id": before}
    with open_sync_checkpointer() as saver:
        graph = load_graph(graph_id).copy(update={"checkpointer": saver})
        snapshots = graph.get_state_history(
            _config(thread, checkpoint),
            filter=metadata or None,
            before=_config(thread, before) if before else None,
            limit=limit,
        )
        return [to_jsonable(_state_out(snapshot)) for snapshot in snapshots]


def thread_state_update(
    *,
    thread: Thread,
    values: Any,
    as_node: str | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write `values` as if `as_node` returned them; the new checkpoint.

    The Thread row follows: its values, interrupts and status mirror the new state.
    """
    graph_id = _graph_id(thread)
    if graph_id is None:
        raise ThreadWithoutGraph
    # The row lock keeps a run from starting on the thread while its state changes.
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.status == Thread.Status.BUSY:
            raise ThreadBusy
        with open_sync_checkpointer() as saver:
            graph = load_graph(graph_id).copy(update={"checkpointer": saver})
            config = graph.update_state(_config(thread, checkpoint), values, as_node=as_node)
            snapshot = graph.get_state(_config(thread))
        state = to_jsonable(_state_out(snapshot))
        thread.values = state["values"]
        thread.interrupts = {
            task["id"]: task["interrupts"] for task in state["tasks"] if task["interrupts"]
        }
        waiting = bool(state["next"] or state["interrupts"])
        thread.status = Thread.Status.INTERRUPTED if waiting else Thread.Status.IDLE
        thread.state_updated_at = timezone.now()
        thread.save(
            update_fields=["values", "interrupts", "status", "state_updated_at", "updated_at"]
        )
    return {"checkpoint": _checkpoint_out(config)}
