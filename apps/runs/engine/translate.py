"""From LangGraph stream parts to the events LangGraph Platform publishes.

The run asks for protocol stream modes (``values``, ``messages-tuple``, ``events``...);
the graph is streamed with LangGraph's own modes. This module maps one onto the other:

- ``messages-tuple`` is LangGraph's ``messages`` mode, published as ``messages`` with
  ``[message, metadata]``;
- the legacy ``messages`` mode publishes ``messages/metadata`` once per message id, then
  ``messages/partial`` (the content accumulated so far) for chunks, or
  ``messages/complete`` for whole messages;
- ``updates`` is always streamed, because interrupts travel there: when the run did not
  ask for ``updates`` (nor ``values``, whose chunks carry them already), an interrupt is
  published under ``values`` as ``{"__interrupt__": [...]}``;
- a subgraph's part is published as ``<event>|<namespace>`` when the run streams
  subgraphs;
- ``events`` streams ``astream_events(version="v2")``: the root graph's
  ``on_chain_stream`` events carry the other modes' parts, everything else is published
  as an ``events`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, BaseMessageChunk, message_chunk_to_message

Event = tuple[str, Any]
_HIDDEN_TAG = "langsmith:hidden"


class StreamTranslator:
    def __init__(self, *, stream_mode: Sequence[str], subgraphs: bool) -> None:
        requested = set(stream_mode)
        self.subgraphs = subgraphs
        self.uses_events = "events" in requested
        self._passthrough = requested - {"events", "messages", "messages-tuple"}
        self._message_tuples = "messages-tuple" in requested
        self._message_parts = "messages" in requested
        self._interrupts_as_values = not requested & {"updates", "values"}
        graph_modes = self._passthrough | {"updates"}
        if self._message_tuples or self._message_parts:
            graph_modes.add("messages")
        # LangGraph's stream modes for astream()/astream_events(), in a stable order.
        self.graph_modes = sorted(graph_modes)
        self._messages: dict[str, BaseMessage] = {}

    def translate(self, part: Any) -> list[Event]:
        """The events for one item of ``graph.astream(..., stream_mode=[...])``."""
        if self.subgraphs:
            namespace, mode, chunk = part
        else:
            mode, chunk = part
            namespace = ()
        if mode in self._passthrough:
            return [(self._name(mode, namespace), chunk)]
        if mode == "messages":
            return self._messages_events(namespace, chunk)
        if self._interrupts_as_values and mode == "updates" and _has_interrupt(chunk):
            return [(self._name("values", namespace), chunk)]
        return []

    def translate_event(self, event: dict[str, Any]) -> list[Event]:
        """The events for one item of ``graph.astream_events(version="v2")``."""
        if _HIDDEN_TAG in (event.get("tags") or ()):
            return []
        if event["event"] == "on_chain_stream" and not event.get("parent_ids"):
            return self.translate(event["data"]["chunk"])
        return [("events", event)]

    def _name(self, mode: str, namespace: tuple[str, ...]) -> str:
        if self.subgraphs and namespace:
            return f"{mode}|{'|'.join(namespace)}"
        return mode

    def _messages_events(self, namespace: tuple[str, ...], chunk: Any) -> list[Event]:
        events: list[Event] = []
        if self._message_tuples:
            events.append((self._name("messages", namespace), chunk))
        if self._message_parts:
            message, metadata = chunk
            events.extend(self._legacy_message_events(message, metadata))
        return events

    def _legacy_message_events(self, message: BaseMessage, metadata: Any) -> list[Event]:
        events: list[Event] = []
        key = message.id
        seen = self._messages.get(key) if key is not None else None
        if seen is None:
            accumulated = message
            events.append(("messages/metadata", {key: {"metadata": metadata}}))
        else:
            accumulated = seen + message if isinstance(seen, BaseMessageChunk) else message
        if key is not None:
            self._messages[key] = accumulated
        name = "messages/partial" if isinstance(message, BaseMessageChunk) else "messages/complete"
        events.append((name, [message_chunk_to_message(accumulated)]))
        return events


def _has_interrupt(chunk: Any) -> bool:
    return isinstance(chunk, dict) and bool(chunk.get("__interrupt__"))
