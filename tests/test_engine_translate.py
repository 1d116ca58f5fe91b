"""From LangGraph stream parts to LangGraph Platform events."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk
from langgraph.types import Interrupt

from apps.runs.engine.translate import StreamTranslator

META = {"langgraph_node": "model"}
INTERRUPT = {"__interrupt__": (Interrupt(value="ok?", id="i1"),)}


def test_graph_modes_always_include_updates_and_map_message_modes() -> None:
    assert StreamTranslator(stream_mode=["values"], subgraphs=False).graph_modes == [
        "updates",
        "values",
    ]
    translator = StreamTranslator(stream_mode=["messages-tuple", "events"], subgraphs=False)
    assert translator.graph_modes == ["messages", "updates"]
    assert translator.uses_events


def test_requested_modes_pass_through_and_others_are_dropped() -> None:
    translator = StreamTranslator(stream_mode=["custom", "values"], subgraphs=False)
    assert translator.translate(("custom", {"i": 1})) == [("custom", {"i": 1})]
    assert translator.translate(("values", {"a": 1})) == [("values", {"a": 1})]
    assert translator.translate(("updates", {"node": {"a": 1}})) == []


def test_interrupts_go_under_values_unless_updates_or_values_carry_them() -> None:
    only_custom = StreamTranslator(stream_mode=["custom"], subgraphs=False)
    assert only_custom.translate(("updates", INTERRUPT)) == [("values", INTERRUPT)]
    assert only_custom.translate(("updates", {"__interrupt__": ()})) == []
    with_updates = StreamTranslator(stream_mode=["updates"], subgraphs=False)
    assert with_updates.translate(("updates", INTERRUPT)) == [("updates", INTERRUPT)]
    with_values = StreamTranslator(stream_mode=["values"], subgraphs=False)
    assert with_values.translate(("updates", INTERRUPT)) == []


def test_subgraph_parts_are_named_with_their_namespace() -> None:
    translator = StreamTranslator(stream_mode=["custom", "messages-tuple"], subgraphs=True)
    assert translator.translate(((), "custom", 1)) == [("custom", 1)]
    assert translator.translate((("a:1", "b:2"), "custom", 1)) == [("custom|a:1|b:2", 1)]
    message = AIMessage("x", id="m")
    assert translator.translate((("a:1",), "messages", (message, META))) == [
        ("messages|a:1", (message, META))
    ]


def test_message_tuples() -> None:
    translator = StreamTranslator(stream_mode=["messages-tuple"], subgraphs=False)
    chunk = AIMessageChunk(content="t", id="m")
    assert translator.translate(("messages", (chunk, META))) == [("messages", (chunk, META))]


def test_legacy_messages_accumulate_chunks_and_complete_messages() -> None:
    translator = StreamTranslator(stream_mode=["messages"], subgraphs=False)
    first = translator.translate(("messages", (AIMessageChunk(content="Hel", id="m"), META)))
    assert [name for name, _ in first] == ["messages/metadata", "messages/partial"]
    assert first[0][1] == {"m": {"metadata": META}}
    second = translator.translate(("messages", (AIMessageChunk(content="lo", id="m"), META)))
    assert [name for name, _ in second] == ["messages/partial"]
    (message,) = second[0][1]
    assert (type(message).__name__, message.content, message.id) == ("AIMessage", "Hello", "m")

    whole = translator.translate(("messages", (AIMessage("done", id="w"), META)))
    assert [name for name, _ in whole] == ["messages/metadata", "messages/complete"]
    assert whole[1][1][0].content == "done"


def test_both_message_modes_at_once() -> None:
    translator = StreamTranslator(stream_mode=["messages", "messages-tuple"], subgraphs=False)
    events = translator.translate(("messages", (AIMessage("x", id="w"), META)))
    assert [name for name, _ in events] == ["messages", "messages/metadata", "messages/complete"]


def test_events_mode_unwraps_the_root_graphs_stream() -> None:
    translator = StreamTranslator(stream_mode=["events", "custom"], subgraphs=False)
    root = {"event": "on_chain_stream", "parent_ids": [], "data": {"chunk": ("custom", 1)}}
    assert translator.translate_event(root) == [("custom", 1)]
    child = {"event": "on_chain_stream", "parent_ids": ["r"], "data": {"chunk": {"a": 1}}}
    assert translator.translate_event(child) == [("events", child)]
    hidden = {"event": "on_chain_start", "parent_ids": ["r"], "tags": ["langsmith:hidden"]}
    assert translator.translate_event(hidden) == []
