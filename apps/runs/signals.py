"""Worker start-up and shutdown hooks: every worker process runs a reaper."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown

from apps.runs.engine.reaper import reaper_start, reaper_stop


@worker_ready.connect
def _start_reaper(**kwargs: Any) -> None:
    reaper_start()


@worker_shutdown.connect
def _stop_reaper(**kwargs: Any) -> None:
    reaper_stop()
