"""Claiming a run exactly once, and holding it under a lease.

A claim is one conditional UPDATE ``pending -> running`` that bumps ``attempt`` and
sets a fresh ``lease_token``: of two workers given the same run, one updates a row and
the other none. Every later write of the attempt (lease renewal, outcome, archive) is
conditional on that token, so an attempt the reaper has given up on cannot overwrite a
newer one. Runs of one thread execute one at a time, in creation order: the claim
locks the thread row and steps aside while an earlier run of the thread is pending or
running (the run that finishes enqueues the next).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.runs.models import Run
from apps.threads.models import Thread


def lease_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.AGENTHOST_RUN_LEASE_SECONDS)


def run_claim(*, run_id: UUID | str, worker: str) -> tuple[Run, str] | None:
    """Claim a pending run for this worker: the run and its lease token, or None."""
    with transaction.atomic():
        run = Run.objects.filter(pk=run_id, status=Run.Status.PENDING).first()
        if run is None:
            return None
        if run.thread_id is not None:
            Thread.objects.select_for_update().filter(pk=run.thread_id).first()
            ahead = Q(status=Run.Status.RUNNING) | Q(
                status=Run.Status.PENDING, created_at__lt=run.created_at
            )
            if Run.objects.filter(ahead, thread_id=run.thread_id).exclude(pk=run.pk).exists():
                return None
        token = secrets.token_hex(16)
        now = timezone.now()
        claimed = Run.objects.filter(pk=run.pk, status=Run.Status.PENDING).update(
            status=Run.Status.RUNNING,
            attempt=F("attempt") + 1,
            lease_token=token,
            lease_expires_at=lease_expiry(now),
            worker=worker[:200],
            started_at=Coalesce("started_at", now),
            updated_at=now,
        )
    if not claimed:
        return None
    run.refresh_from_db()
    return run, token


class Hold(Enum):
    """Whether an attempt still holds its run."""

    HELD = "held"
    # Another attempt holds it now, or the run was settled without this attempt.
    LOST = "lost"
    # The run was deleted (with its thread, say): nobody will end its stream but us.
    GONE = "gone"


def run_hold(*, run_id: UUID | str) -> Hold:
    """Why a write conditional on an attempt's lease token matched no row."""
    return Hold.LOST if Run.objects.filter(pk=run_id).exists() else Hold.GONE


def lease_renew(*, run_id: UUID | str, token: str) -> Hold:
    """Extend the lease, if this attempt still holds the run."""
    renewed = Run.objects.filter(pk=run_id, status=Run.Status.RUNNING, lease_token=token).update(
        lease_expires_at=lease_expiry()
    )
    return Hold.HELD if renewed else run_hold(run_id=run_id)


def _renew_and_close(run_id: UUID | str, token: str) -> Hold:
    # Runs in a pool thread: its connection must not outlive the call.
    try:
        return lease_renew(run_id=run_id, token=token)
    finally:
        connection.close()


lease_renew_async = sync_to_async(_renew_and_close, thread_sensitive=False)
