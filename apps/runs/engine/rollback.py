"""Rollback: remove the checkpoints one run wrote, so its thread is as before the run.

The executor puts ``run_id`` into the graph's ``config["metadata"]``, and LangGraph
copies string metadata into every checkpoint's metadata
(``langgraph.checkpoint.base.get_checkpoint_metadata``), subgraph checkpoints included.
The savers have no delete-by-run (``adelete_for_runs`` is not implemented by the
PostgreSQL and SQLite savers), so this deletes the rows, with their pending writes.
Channel blobs the run wrote stay behind unreferenced; LangGraph's own thread deletion
removes them with the thread.
"""

from __future__ import annotations

from uuid import UUID

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

_POSTGRES = (
    """
    DELETE FROM checkpoint_writes WHERE thread_id = %(thread)s AND checkpoint_id IN (
        SELECT checkpoint_id FROM checkpoints
        WHERE thread_id = %(thread)s AND metadata->>'run_id' = %(run)s)
    """,
    "DELETE FROM checkpoints WHERE thread_id = %(thread)s AND metadata->>'run_id' = %(run)s",
)
_SQLITE = (
    """
    DELETE FROM writes WHERE thread_id = :thread AND checkpoint_id IN (
        SELECT checkpoint_id FROM checkpoints
        WHERE thread_id = :thread
        AND json_extract(CAST(metadata AS TEXT), '$.run_id') = :run)
    """,
    """
    DELETE FROM checkpoints WHERE thread_id = :thread
    AND json_extract(CAST(metadata AS TEXT), '$.run_id') = :run
    """,
)


async def checkpoints_delete_for_run(
    saver: BaseCheckpointSaver, *, thread_id: UUID | str, run_id: UUID | str
) -> None:
    params = {"thread": str(thread_id), "run": str(run_id)}
    if isinstance(saver, AsyncPostgresSaver):
        async with saver.lock, saver.conn.transaction(), saver.conn.cursor() as cursor:
            for statement in _POSTGRES:
                await cursor.execute(statement, params)
    elif isinstance(saver, AsyncSqliteSaver):
        async with saver.lock:
            for statement in _SQLITE:
                await saver.conn.execute(statement, params)
            await saver.conn.commit()
    else:
        raise TypeError(f"rollback does not know {type(saver).__name__}")
