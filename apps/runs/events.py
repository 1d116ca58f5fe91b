"""The run event stream: one Redis stream per run, shared by the worker and the web.

Each entry has two fields: ``e``, the SSE event name, and ``d``, its data as compact
JSON bytes. The entry id Redis assigns is the SSE ``id:``. A run's stream always starts
with ``metadata`` (``{"run_id", "attempt"}``) and always ends with ``end``
(``{"run_id", "status"}``), written from ``finally`` even when the run fails, is
cancelled or its worker dies (then the reaper writes it). ``error``
(``{"error": <class>, "message": ...}``) comes just before ``end`` on failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

FIELD_EVENT = b"e"
FIELD_DATA = b"d"

METADATA_EVENT = "metadata"
ERROR_EVENT = "error"
END_EVENT = "end"


def events_key(run_id: UUID | str) -> str:
    return f"ah:run:{run_id}:events"


def cancel_key(run_id: UUID | str) -> str:
    """Holds the cancel action ('interrupt' or 'rollback') once a cancel is requested."""
    return f"ah:run:{run_id}:cancel"


@dataclass(frozen=True, slots=True)
class StreamEvent:
    id: str
    event: str
    data: bytes


def parse_stream_id(value: str) -> tuple[int, int] | None:
    """A Redis stream id as (ms, seq), or None if `value` is not one."""
    ms, sep, seq = value.partition("-")
    if not ms.isdigit() or (sep and not seq.isdigit()):
        return None
    return int(ms), int(seq or 0)
