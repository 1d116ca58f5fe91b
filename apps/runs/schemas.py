"""Request and response shapes of the runs API, as langgraph-sdk sends and expects them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator, model_validator

StreamMode = Literal[
    "values",
    "updates",
    "custom",
    "messages",
    "messages-tuple",
    "tasks",
    "checkpoints",
    "debug",
    "events",
]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
CancelAction = Literal["interrupt", "rollback"]
RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]


class Command(Schema):
    model_config = ConfigDict(extra="forbid")

    resume: Any = None
    update: Any = None
    goto: Any = None


class RunCreate(Schema):
    """The run-creation body (stateful and stateless, streaming or not)."""

    model_config = ConfigDict(extra="ignore")

    assistant_id: str
    input: dict[str, Any] | list[Any] | str | int | float | bool | None = None
    command: Command | None = None
    stream_mode: list[StreamMode] = Field(default_factory=lambda: ["values"])
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    on_disconnect: Literal["continue", "cancel"] = "continue"
    multitask_strategy: MultitaskStrategy = "enqueue"
    if_not_exists: Literal["reject", "create"] = "reject"
    on_completion: Literal["delete", "keep"] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    webhook: str | None = None
    feedback_keys: list[str] | None = None
    after_seconds: float | None = Field(default=None, ge=0)
    durability: Literal["sync", "async", "exit"] | None = None
    checkpoint_during: bool | None = None

    @field_validator("stream_mode", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _config_or_context(self) -> RunCreate:
        if self.config and self.config.get("configurable") and self.context:
            raise ValueError("give either config.configurable or context, not both")
        return self


class RunOut(Schema):
    run_id: UUID
    thread_id: UUID | None
    assistant_id: UUID | None
    created_at: datetime
    updated_at: datetime
    status: RunStatus
    metadata: dict[str, Any]
    kwargs: dict[str, Any]
    multitask_strategy: MultitaskStrategy


def run_out(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "assistant_id": run.assistant_id,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "status": run.status,
        "metadata": run.metadata,
        "kwargs": run.kwargs,
        "multitask_strategy": run.multitask_strategy,
    }
