"""Copying a finished run's Redis stream into RunEvent rows.

Late joins and history read the archive once the stream expires. Archiving happens
once per run (``events_archived`` flips in the same transaction as the rows are
written) and, from a worker, only for the attempt that still holds the lease. Once
archived, the stream lives only ``ARCHIVED_STREAM_TTL_SECONDS`` more, for clients
reconnecting right after the end.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import connection, transaction

from agenthost.redis import sync_redis
from apps.runs.engine.publisher import stream_expire
from apps.runs.events import FIELD_DATA, FIELD_EVENT, events_key, parse_stream_id
from apps.runs.models import Run, RunEvent

ARCHIVED_STREAM_TTL_SECONDS = 300
_PAGE = 2000
_COLUMNS = ("tenant", "run", "ms", "seq", "event", "data")


def _rows(run_id: UUID, tenant_id: UUID, entries: list[Any]) -> list[tuple[Any, ...]]:
    rows = []
    for entry_id, fields in entries:
        ms, seq = parse_stream_id(entry_id.decode())  # type: ignore[misc]
        rows.append(
            (tenant_id, run_id, ms, seq, fields[FIELD_EVENT].decode(), fields[FIELD_DATA].decode())
        )
    return rows


def _insert(rows: list[tuple[Any, ...]]) -> None:
    """Insert archive rows: COPY on PostgreSQL (a tenth of bulk_create's CPU per row)."""
    if connection.vendor != "postgresql":
        RunEvent.objects.bulk_create(
            RunEvent(tenant_id=r[0], run_id=r[1], ms=r[2], seq=r[3], event=r[4], data=r[5])
            for r in rows
        )
        return
    columns = ", ".join(f'"{RunEvent._meta.get_field(name).column}"' for name in _COLUMNS)
    statement = f'COPY "{RunEvent._meta.db_table}" ({columns}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def run_events_archive(*, run_id: UUID, tenant_id: UUID, lease_token: str | None) -> bool:
    """Archive the run's stream; False if it was archived already (or not ours to)."""
    key = events_key(run_id)
    client = sync_redis()
    with transaction.atomic():
        claim = Run.objects.filter(pk=run_id, events_archived=False)
        if lease_token is not None:
            claim = claim.filter(lease_token=lease_token)
        if not claim.update(events_archived=True):
            return False
        start = "-"
        while True:
            entries = client.xrange(key, min=start, max="+", count=_PAGE)
            if not entries:
                break
            _insert(_rows(run_id, tenant_id, entries))
            if len(entries) < _PAGE:
                break
            start = f"({entries[-1][0].decode()}"
    stream_expire(run_id, ARCHIVED_STREAM_TTL_SECONDS)
    return True
