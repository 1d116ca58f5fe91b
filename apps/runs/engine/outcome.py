"""How an attempt ended, as the executor hands it to the code that records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.runs.models import Run

# Exception classes whose message is safe to show to the client (as LangGraph
# Platform does); any other error says only its class name.
_MESSAGE_KEPT = frozenset(
    {
        "ValueError",
        "TypeError",
        "KeyError",
        "AttributeError",
        "RuntimeError",
        "RecursionError",
        "TimeoutError",
        "InvalidUpdateError",
        "GraphBubbleUp",
        "EmptyInputError",
        "TaskNotFound",
        "HTTPException",
        "UserInterrupt",
    }
)
INTERNAL_ERROR_MESSAGE = "An internal error occurred"


def error_payload(exc: BaseException) -> dict[str, str]:
    """The ``error`` event's data for `exc`: its class name, and its message if safe."""
    keep = any(cls.__name__ in _MESSAGE_KEPT for cls in type(exc).__mro__)
    return {
        "error": type(exc).__name__,
        "message": str(exc) if keep else INTERNAL_ERROR_MESSAGE,
    }


@dataclass
class Outcome:
    status: Run.Status
    # The thread's state after the attempt, as JSON (None when it could not be read).
    values: Any = None
    # Interrupts waiting for an answer: all of them, and grouped by task id.
    interrupts: list[Any] = field(default_factory=list)
    interrupts_by_task: dict[str, list[Any]] = field(default_factory=dict)
    # Nodes that would run next: the graph stopped before its end.
    next: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    rolled_back: bool = False
    # The attempt lost its lease: it must not record anything.
    lease_lost: bool = False
    # The run was deleted while it ran: only its stream is left to end.
    run_gone: bool = False

    @classmethod
    def failed(cls, exc: BaseException, status: Run.Status = Run.Status.ERROR) -> Outcome:
        return cls(status=status, error=error_payload(exc))

    @property
    def output(self) -> Any:
        """Run.output: the final values, with the pending interrupts if any."""
        if self.interrupts:
            base = self.values if isinstance(self.values, dict) else {}
            return {**base, "__interrupt__": self.interrupts}
        return self.values
