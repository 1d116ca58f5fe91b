"""`ticker`: long work that shows progress, with no LLM.

Input ``{"steps": K, "delay": D}``: K graph steps, each sleeping D seconds and then
emitting a ``custom`` progress event ``{"step": i, "of": K}`` through the stream writer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class TickerState(TypedDict, total=False):
    steps: int
    delay: float
    done: int


async def tick(state: TickerState) -> dict[str, Any]:
    done = state.get("done", 0)
    await asyncio.sleep(float(state.get("delay", 0.1)))
    get_stream_writer()({"step": done, "of": state.get("steps", 3)})
    return {"done": done + 1}


def next_step(state: TickerState) -> str:
    return "tick" if state.get("done", 0) < state.get("steps", 3) else END


_builder = StateGraph(TickerState)
_builder.add_node("tick", tick)
_builder.add_edge(START, "tick")
_builder.add_conditional_edges("tick", next_step, ["tick", END])
graph = _builder.compile()
graph.name = "ticker"
