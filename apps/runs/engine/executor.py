"""Running one attempt of a run's graph inside an event loop.

The graph streams in its own asyncio task; beside it, a watcher waits for a cancel
request and a keeper renews the lease. Whichever ends first decides: the graph's end
(success or error), a cancel (``interrupt`` keeps what completed steps checkpointed,
``rollback`` deletes the run's checkpoints), a lost lease (the attempt stops and records
nothing), the run's deletion (the attempt stops and only ends the stream), or the run's
time limit. Cancelling the graph's task interrupts it at its current await, so a cancel
lands within a poll period even during a long silent step.

Every chunk is translated, serialised and handed to the publisher, which flushes all
of them before ``execute`` returns; the outcome carries the thread's state read back
from the checkpointer, for the caller to record before it writes ``end``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import redis.asyncio as aioredis
from django.conf import settings
from langgraph.checkpoint.base import BaseCheckpointSaver

from apps.graphs.catalogue import load_graph
from apps.runs.engine.cancel import cancel_requested
from apps.runs.engine.checkpointer import open_checkpointer
from apps.runs.engine.lease import Hold, lease_renew_async
from apps.runs.engine.outcome import Outcome
from apps.runs.engine.publisher import HIGH_WATER, EventPublisher
from apps.runs.engine.request import GraphRequest
from apps.runs.engine.rollback import checkpoints_delete_for_run
from apps.runs.engine.serde import dumps, to_jsonable
from apps.runs.engine.translate import StreamTranslator
from apps.runs.models import Run

logger = logging.getLogger(__name__)

# How long a cancelled graph gets to unwind before the attempt reports anyway.
CANCEL_GRACE_SECONDS = 5.0
CANCEL_RETRY_SECONDS = 0.5
WATCHERS_STOP_SECONDS = 1.0
_TIMEOUT = "timeout"


@dataclass(frozen=True)
class Attempt:
    run_id: UUID
    thread_id: UUID
    graph_id: str
    attempt: int
    lease_token: str
    # Seconds left before the run's time limit.
    time_left: float
    request: GraphRequest


async def execute(attempt: Attempt) -> Outcome:
    """Run the attempt's graph, publishing its events; return how it ended."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    publisher = EventPublisher(client, attempt.run_id)
    publisher.start()
    try:
        return await _run_graph(attempt, client, publisher)
    finally:
        try:
            await publisher.aclose()
        finally:
            await client.aclose()


async def _run_graph(
    attempt: Attempt, client: aioredis.Redis, publisher: EventPublisher
) -> Outcome:
    try:
        graph = load_graph(attempt.graph_id)
    except Exception as exc:
        logger.exception("run %s: graph %r cannot be loaded", attempt.run_id, attempt.graph_id)
        return Outcome.failed(exc)
    async with open_checkpointer() as saver:
        graph = graph.copy(update={"checkpointer": saver})
        request = attempt.request
        if attempt.attempt > 1 and await _has_checkpoints(saver, attempt):
            request = request.resumed()
        graph_task = asyncio.create_task(_stream(graph, request, publisher))
        stop = await _supervise(graph_task, attempt, client)
        if stop is Hold.LOST:
            return Outcome(status=Run.Status.RUNNING, lease_lost=True)
        if stop is Hold.GONE:
            return Outcome(status=Run.Status.INTERRUPTED, run_gone=True)
        if stop == _TIMEOUT:
            limit = settings.AGENTHOST_RUN_TIMEOUT_SECONDS
            outcome = Outcome.failed(
                TimeoutError(f"Run exceeded its time limit of {limit:g} s"), Run.Status.TIMEOUT
            )
        elif stop is not None:
            outcome = Outcome(status=Run.Status.INTERRUPTED)
            if stop == "rollback":
                await checkpoints_delete_for_run(
                    saver, thread_id=attempt.thread_id, run_id=attempt.run_id
                )
                outcome.rolled_back = True
        elif graph_task.cancelled():
            outcome = Outcome.failed(RuntimeError("The graph was cancelled"))
        elif (exc := graph_task.exception()) is not None:
            logger.info("run %s failed: %r", attempt.run_id, exc)
            outcome = Outcome.failed(exc)
        else:
            outcome = Outcome(status=Run.Status.SUCCESS)
        await _read_state(graph, request, outcome)
        return outcome


async def _has_checkpoints(saver: BaseCheckpointSaver, attempt: Attempt) -> bool:
    """Whether an earlier attempt of the run checkpointed anything to resume from."""
    config = attempt.request.thread_config
    async for _ in saver.alist(config, filter={"run_id": str(attempt.run_id)}, limit=1):
        return True
    return False


async def _stream(graph: Any, request: GraphRequest, publisher: EventPublisher) -> None:
    translator = StreamTranslator(stream_mode=request.stream_mode, subgraphs=request.subgraphs)
    kwargs = {
        **request.options,
        "stream_mode": translator.graph_modes,
        "subgraphs": request.subgraphs,
    }
    if translator.uses_events:
        source = graph.astream_events(request.input, request.config, version="v2", **kwargs)
        translate = translator.translate_event
    else:
        source = graph.astream(request.input, request.config, **kwargs)
        translate = translator.translate
    publish = publisher.publish
    async with aclosing(source):
        async for part in source:
            for event, payload in translate(part):
                publish(event, dumps(payload))
            if publisher.backlog > HIGH_WATER:
                await publisher.wait_for_room()


async def _keep_lease(attempt: Attempt, stop: asyncio.Event) -> Hold | str:
    interval = settings.AGENTHOST_RUN_LEASE_SECONDS / 3
    while not stop.is_set():
        await asyncio.sleep(interval)
        try:
            hold = await lease_renew_async(attempt.run_id, attempt.lease_token)
        except Exception:
            logger.exception("run %s: lease renewal failed; retrying", attempt.run_id)
            continue
        if hold is not Hold.HELD:
            logger.warning("run %s attempt %s: run %s", attempt.run_id, attempt.attempt, hold.value)
            return hold
    return ""


async def _supervise(
    graph_task: asyncio.Task[None], attempt: Attempt, client: aioredis.Redis
) -> Hold | str | None:
    """Wait for the graph; None if it ended by itself, else why it was stopped."""
    stop = asyncio.Event()
    watchers = [
        asyncio.create_task(cancel_requested(client, attempt.run_id, stop)),
        asyncio.create_task(_keep_lease(attempt, stop)),
    ]
    try:
        done, _ = await asyncio.wait(
            [graph_task, *watchers],
            timeout=max(attempt.time_left, 0.0),
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        # The flag ends a watcher whose cancellation got lost (see cancel_requested);
        # the bounded wait keeps a stuck one from holding the run.
        stop.set()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.wait(watchers, timeout=WATCHERS_STOP_SECONDS)
    if graph_task in done:
        return None
    reason = next((w.result() for w in watchers if w in done), _TIMEOUT)
    await _cancel_graph(graph_task, attempt)
    return reason


async def _cancel_graph(graph_task: asyncio.Task[None], attempt: Attempt) -> None:
    """Cancel the graph's task, again and again: a cancellation can get lost on its way
    (see cancel_requested), and each new one is another chance to land."""
    deadline = asyncio.get_running_loop().time() + CANCEL_GRACE_SECONDS
    while not graph_task.done() and asyncio.get_running_loop().time() < deadline:
        graph_task.cancel()
        await asyncio.wait([graph_task], timeout=CANCEL_RETRY_SECONDS)
    if not graph_task.done():
        logger.warning("run %s: graph still unwinding after cancel", attempt.run_id)


async def _read_state(graph: Any, request: GraphRequest, outcome: Outcome) -> None:
    try:
        state = await graph.aget_state(request.thread_config)
    except Exception:
        logger.exception("cannot read the thread state after a run")
        return
    outcome.values = to_jsonable(state.values)
    outcome.interrupts = to_jsonable(list(state.interrupts))
    outcome.interrupts_by_task = {
        task.id: to_jsonable(list(task.interrupts)) for task in state.tasks if task.interrupts
    }
    outcome.next = list(state.next)
