"""What to call the graph with, from the stored run and its assistant.

Mirrors LangGraph Platform: the assistant's config and context are defaults the run's
own override; ``configurable.thread_id`` is the thread; the run's metadata, plus
``run_id``, ``thread_id``, ``graph_id``, ``assistant_id`` and ``run_attempt``, goes into
``config["metadata"]``, from where LangGraph copies it into every checkpoint (rollback
finds a run's checkpoints by it) and into the metadata of ``messages`` events.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Send

from apps.assistants.models import Assistant
from apps.runs.models import Run


@dataclass(frozen=True)
class GraphRequest:
    input: Any
    config: RunnableConfig
    stream_mode: list[str]
    subgraphs: bool
    # Keyword arguments for astream(): context, interrupt_before/after, durability.
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def thread_config(self) -> RunnableConfig:
        """The config that reads the thread's latest state."""
        return {"configurable": {"thread_id": self.config["configurable"]["thread_id"]}}

    def resumed(self) -> GraphRequest:
        """The same run continued from its thread's latest checkpoint (a retry)."""
        configurable = {
            key: value
            for key, value in self.config["configurable"].items()
            if key not in ("checkpoint_id", "checkpoint_ns")
        }
        return replace(self, input=None, config={**self.config, "configurable": configurable})


def _goto(value: Any) -> Any:
    if isinstance(value, list):
        return [_goto(item) for item in value]
    if isinstance(value, dict) and "node" in value:
        return Send(value["node"], value.get("input"))
    return value


def _command(command: dict[str, Any]) -> Command:
    parts: dict[str, Any] = {}
    if command.get("resume") is not None:
        parts["resume"] = command["resume"]
    if command.get("update") is not None:
        parts["update"] = command["update"]
    if command.get("goto") is not None:
        parts["goto"] = _goto(command["goto"])
    return Command(**parts)


def _durability(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("durability"):
        return kwargs["durability"]
    checkpoint_during = kwargs.get("checkpoint_during")
    if checkpoint_during is None:
        return None
    return "async" if checkpoint_during else "exit"


def graph_request(*, run: Run, assistant: Assistant | None) -> GraphRequest:
    kwargs = run.kwargs
    defaults: dict[str, Any] = dict(assistant.config) if assistant else {}
    given: dict[str, Any] = dict(kwargs.get("config") or {})
    configurable = {**defaults.get("configurable", {}), **given.get("configurable", {})}
    configurable["thread_id"] = str(run.thread_id)
    checkpoint = kwargs.get("checkpoint") or {}
    checkpoint_id = kwargs.get("checkpoint_id") or checkpoint.get("checkpoint_id")
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    if checkpoint.get("checkpoint_ns"):
        configurable["checkpoint_ns"] = checkpoint["checkpoint_ns"]
    metadata = {
        **defaults.get("metadata", {}),
        **given.get("metadata", {}),
        **run.metadata,
        "graph_id": run.graph_id,
        "assistant_id": str(run.assistant_id) if run.assistant_id else None,
        "run_id": str(run.run_id),
        "thread_id": str(run.thread_id),
        "run_attempt": run.attempt,
    }
    config: RunnableConfig = {
        **defaults,
        **given,
        "configurable": configurable,
        "metadata": metadata,
        "run_id": run.run_id,
    }

    options: dict[str, Any] = {}
    context = {**(assistant.context if assistant else {}), **(kwargs.get("context") or {})}
    if context:
        options["context"] = context
    for name in ("interrupt_before", "interrupt_after"):
        if kwargs.get(name):
            options[name] = kwargs[name]
    durability = _durability(kwargs)
    if durability:
        options["durability"] = durability

    command = kwargs.get("command")
    return GraphRequest(
        input=_command(command) if command else kwargs.get("input"),
        config=config,
        stream_mode=list(kwargs.get("stream_mode") or ["values"]),
        subgraphs=bool(kwargs.get("stream_subgraphs")),
        options=options,
    )
