"""Deterministic graphs for the test suite (no LLM).

burst    -- input {"messages": [...], "n": N}: N custom events {"i": k, "n": N}, then an AI
            message "echo: <last user text>". n < 0 raises ValueError.
slow     -- input {"k": K, "delay": D}: K steps, each sleeping D seconds, then emitting
            {"step": i, "of": K}.
approval -- asks for a human decision with interrupt(), then records it.
nested   -- input {"topic": T}: node `prepare`, then the subgraph `inner` (nodes `draft`, which
            emits a custom event, and `polish`), so subgraph streaming shows namespaces.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt
from typing_extensions import TypedDict

from apps.graphs.builtin.echo import last_user_text


class BurstState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    n: int
    emitted: int


async def emit(state: BurstState) -> dict[str, Any]:
    n = int(state.get("n") or 0)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    writer = get_stream_writer()
    for i in range(n):
        writer({"i": i, "n": n})
    return {"emitted": n}


async def respond(state: BurstState) -> dict[str, Any]:
    messages = state.get("messages", [])
    reply = AIMessage(content=f"echo: {last_user_text(messages)}", id=f"ai-{len(messages)}")
    return {"messages": [reply]}


_burst = StateGraph(BurstState)
_burst.add_node("emit", emit)
_burst.add_node("respond", respond)
_burst.add_edge(START, "emit")
_burst.add_edge("emit", "respond")
_burst.add_edge("respond", END)
burst = _burst.compile()


class SlowState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    k: int
    delay: float
    step: int


async def tick(state: SlowState) -> dict[str, Any]:
    step = int(state.get("step") or 0)
    await asyncio.sleep(float(state.get("delay", 0.2)))
    get_stream_writer()({"step": step, "of": int(state.get("k") or 3)})
    return {"step": step + 1}


def more_ticks(state: SlowState) -> str:
    return "tick" if int(state.get("step") or 0) < int(state.get("k") or 3) else END


_slow = StateGraph(SlowState)
_slow.add_node("tick", tick)
_slow.add_edge(START, "tick")
_slow.add_conditional_edges("tick", more_ticks, ["tick", END])
slow = _slow.compile()


class ApprovalState(TypedDict, total=False):
    request: str
    decision: str


def ask(state: ApprovalState) -> dict[str, Any]:
    return {"decision": interrupt({"question": f"approve {state.get('request', '')}?"})}


_approval = StateGraph(ApprovalState)
_approval.add_node("ask", ask)
_approval.add_edge(START, "ask")
_approval.add_edge("ask", END)
approval = _approval.compile()


class NestedState(TypedDict, total=False):
    topic: str
    draft: str
    final: str


def draft(state: NestedState) -> dict[str, Any]:
    get_stream_writer()({"drafting": state.get("topic", "")})
    return {"draft": f"about {state.get('topic', '')}"}


def polish(state: NestedState) -> dict[str, Any]:
    return {"final": state.get("draft", "").upper()}


def prepare(state: NestedState) -> dict[str, Any]:
    return {"topic": state.get("topic", "").strip()}


_inner = StateGraph(NestedState)
_inner.add_node("draft", draft)
_inner.add_node("polish", polish)
_inner.add_edge(START, "draft")
_inner.add_edge("draft", "polish")
_inner.add_edge("polish", END)

_nested = StateGraph(NestedState)
_nested.add_node("prepare", prepare)
_nested.add_node("inner", _inner.compile())
_nested.add_edge(START, "prepare")
_nested.add_edge("prepare", "inner")
_nested.add_edge("inner", END)
nested = _nested.compile()
