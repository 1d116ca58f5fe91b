"""`echo`: a chat graph that needs no LLM. It streams its reply token by token.

Input ``{"messages": [{"role": "user", "content": "hi"}]}``. The reply is
``"echo: <last user text>"``, streamed through a deterministic fake chat model, so the
``messages-tuple`` stream mode shows one chunk per word, as a real model would.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


class EchoState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]


def last_user_text(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if message.type == "human":
            return message.text if hasattr(message, "text") else str(message.content)
    return ""


async def respond(state: EchoState) -> dict[str, Any]:
    reply = f"echo: {last_user_text(state.get('messages', []))}"
    model = GenericFakeChatModel(messages=itertools.repeat(AIMessage(content=reply)))
    return {"messages": [await model.ainvoke(state.get("messages", []))]}


_builder = StateGraph(EchoState)
_builder.add_node("respond", respond)
_builder.add_edge(START, "respond")
_builder.add_edge("respond", END)
graph = _builder.compile()
graph.name = "echo"
