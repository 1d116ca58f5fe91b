"""Worker start-up and shutdown hooks: graphs loaded up front, and a reaper per process."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init, worker_ready, worker_shutdown

from apps.graphs.catalogue import load_all_graphs
from apps.runs.engine.reaper import reaper_start, reaper_stop


@worker_init.connect
def _load_graphs(**kwargs: Any) -> None:
    # Import every graph before tasks run: the catalogue's cache is filled once, not
    # raced by the pool's threads, and a graph that cannot load stops the worker here.
    load_all_graphs()


@worker_ready.connect
def _start_reaper(**kwargs: Any) -> None:
    reaper_start()


@worker_shutdown.connect
def _stop_reaper(**kwargs: Any) -> None:
    reaper_stop()
