"""The four measurements, each one repetition against one server.

Every run uses the peer's ``graph``: input ``n`` makes it emit ``n`` custom events
``{"i": k, "n": n}``, so every stream is checked for completeness and order.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.client import Client, StreamResult, run_join, run_stream, thread_create


@dataclass(frozen=True)
class Sizes:
    latency_samples: int = 5
    latency_jitter: float = 0.5
    single_n: int = 20_000
    streams: int = 50
    stream_n: int = 1_000
    resume_n: int = 20_000
    resume_cut: int = 2_000


@dataclass
class Outcome:
    values: list[float] = field(default_factory=list)
    # A second view of the same runs, where a scenario has one (see Scenario).
    secondary: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    error: str | None = None
    note: str = ""


Measure = Callable[[Client, Sizes], Awaitable[Outcome]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str  # formatted with the Sizes fields
    unit: str
    # "rate": more is better, ratio = ours / peer. "latency": less is better, ratio =
    # peer / ours, i.e. "N times faster". "integrity": lost and duplicated events.
    kind: str
    # The ratio agenthost should reach (rate, latency); integrity always wants 0 / 0.
    target: float
    measure: Measure
    # Title of Outcome.secondary, compared like the headline figure but without a target.
    secondary_title: str = ""


def incomplete(result: StreamResult, n: int) -> str | None:
    """Why `result` is not a whole, ordered stream of `n` custom events, or None."""
    if result.error:
        return result.error
    if result.indices != list(range(n)):
        return f"{len(result.indices)} custom events of {n} arrived, or out of order"
    return None


async def first_event(client: Client, sizes: Sizes) -> Outcome:
    """Milliseconds from sending ``POST .../runs/stream`` (n = 0) to its first SSE event."""
    outcome = Outcome()
    for _ in range(sizes.latency_samples):
        # A random idle gap, so requests do not phase-lock with a server's polling loop.
        await asyncio.sleep(random.uniform(0, sizes.latency_jitter))
        thread_id = await thread_create(client)
        result = await run_stream(client, thread_id=thread_id, n=0)
        outcome.error = incomplete(result, 0)
        if outcome.error or result.first_event is None:
            outcome.error = outcome.error or "no event arrived"
            return outcome
        outcome.values.append(result.first_event * 1000)
    return outcome


async def single_stream(client: Client, sizes: Sizes) -> Outcome:
    """Custom events per second on one stream, first to last custom event."""
    thread_id = await thread_create(client)
    result = await run_stream(client, thread_id=thread_id, n=sizes.single_n)
    rate = result.stream_rate()
    error = incomplete(result, sizes.single_n)
    if error or rate is None:
        return Outcome(error=error or "no measurable span")
    # Also counted from the POST to the end of the stream, which includes the start-up.
    whole = sizes.single_n / result.finished if result.finished else None
    return Outcome(values=[rate], secondary=[whole] if whole else [])


async def concurrent_streams(client: Client, sizes: Sizes) -> Outcome:
    """Custom events per second over all streams, from the first POST to the last stream end."""
    thread_ids = await asyncio.gather(*(thread_create(client) for _ in range(sizes.streams)))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(run_stream(client, thread_id=thread_id, n=sizes.stream_n) for thread_id in thread_ids)
    )
    wall = time.perf_counter() - started
    errors = [error for result in results if (error := incomplete(result, sizes.stream_n))]
    received = sum(len(result.indices) for result in results)
    slowest_first = max((r.first_event or 0.0) for r in results)
    return Outcome(
        values=[received / wall],
        error=f"{len(errors)} streams failed, e.g. {errors[0]}" if errors else None,
        note=f"wall {wall:.2f} s, slowest first event {slowest_first * 1000:.0f} ms",
    )


async def resume_mid_burst(client: Client, sizes: Sizes) -> Outcome:
    """Leave a run mid-burst, rejoin with ``Last-Event-ID``, count every ``i`` exactly once."""
    n, cut = sizes.resume_n, sizes.resume_cut
    thread_id = await thread_create(client)
    head = await run_stream(client, thread_id=thread_id, n=n, resumable=True, leave_after=cut)
    if head.error or head.ended_by != "cut":
        return Outcome(error=head.error or f"the stream ended before {cut} events")
    if head.run_id is None or head.last_id is None:
        return Outcome(error="the stream carried no run id or no SSE ids to resume from")
    tail = await run_join(
        client, thread_id=thread_id, run_id=head.run_id, last_event_id=head.last_id
    )
    if tail.error:
        return Outcome(error=tail.error)
    seen = head.indices + tail.indices
    distinct = set(seen)
    return Outcome(
        lost=len(set(range(n)) - distinct),
        duplicated=len(seen) - len(distinct),
        note=f"left after {len(head.indices)}; the rejoin brought {len(tail.indices)}"
        f" over {(tail.finished or 0) * 1000:.0f} ms",
    )


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("first-event", "POST to first event (n=0)", "ms", "latency", 5, first_event),
        Scenario(
            "single",
            "1 stream x {single_n}, custom ev/s",
            "ev/s",
            "rate",
            3,
            single_stream,
            secondary_title="  the same, from the POST to the end",
        ),
        Scenario(
            "concurrent",
            "{streams} streams x {stream_n}, aggregate ev/s",
            "ev/s",
            "rate",
            2,
            concurrent_streams,
        ),
        Scenario(
            "resume",
            "resume at {resume_cut} of {resume_n}: lost/dup",
            "",
            "integrity",
            0,
            resume_mid_burst,
        ),
    )
}
