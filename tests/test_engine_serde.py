"""Serialising stream chunks and state to compact JSON."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import NamedTuple

import orjson
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.types import Command, Interrupt, Send
from pydantic import BaseModel

from apps.runs.engine.outcome import INTERNAL_ERROR_MESSAGE, error_payload
from apps.runs.engine.serde import dumps, to_jsonable


class Color(Enum):
    RED = "red"


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass
class Box:
    label: str
    inner: Point


class Profile(BaseModel):
    name: str
    tags: set[str]


class Opaque:
    def __str__(self) -> str:
        return "opaque"


def test_messages_dump_as_langgraph_platform_shows_them() -> None:
    human = to_jsonable(HumanMessage("hello", id="h1"))
    assert human == {
        "content": "hello",
        "additional_kwargs": {},
        "response_metadata": {},
        "type": "human",
        "name": None,
        "id": "h1",
    }
    chunk = to_jsonable(AIMessageChunk(content="t0", id="c1"))
    assert (chunk["type"], chunk["tool_call_chunks"]) == ("AIMessageChunk", [])
    assert to_jsonable(AIMessage("hi", id="a1"))["tool_calls"] == []


def test_langgraph_types() -> None:
    assert to_jsonable(Interrupt(value={"q": 1}, id="i1")) == {"value": {"q": 1}, "id": "i1"}
    assert to_jsonable(Send("node", {"a": 1})) == {"node": "node", "arg": {"a": 1}}
    assert to_jsonable(Command(resume="yes"))["resume"] == "yes"


def test_python_types() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ident = uuid.UUID(int=1)
    value = {
        "when": when,
        "id": ident,
        "set": {1},
        "frozen": frozenset({2}),
        "tuple": (1, 2),
        "named": Point(1, 2),
        "box": Box("b", Point(3, 4)),
        "model": Profile(name="p", tags={"t"}),
        "enum": Color.RED,
        "delta": timedelta(seconds=1.5),
        "decimal": Decimal("1.25"),
        "bytes": b"ab",
        "path": Path("/tmp/x"),
        "error": KeyError("k"),
        "opaque": Opaque(),
        7: "int key",
    }
    assert to_jsonable(value) == {
        "when": "2026-01-02T03:04:05+00:00",
        "id": str(ident),
        "set": [1],
        "frozen": [2],
        "tuple": [1, 2],
        "named": {"x": 1, "y": 2},
        "box": {"label": "b", "inner": {"x": 3, "y": 4}},
        "model": {"name": "p", "tags": ["t"]},
        "enum": "red",
        "delta": 1.5,
        "decimal": 1.25,
        "bytes": "YWI=",
        "path": "/tmp/x",
        "error": {"error": "KeyError", "message": "'k'"},
        "opaque": "opaque",
        "7": "int key",
    }


def test_output_is_one_compact_line() -> None:
    encoded = dumps({"text": "two\nlines", "n": [1, 2]})
    assert encoded == b'{"text":"two\\nlines","n":[1,2]}'
    assert orjson.loads(encoded)["text"] == "two\nlines"


def test_error_payload_keeps_only_safe_messages() -> None:
    assert error_payload(ValueError("bad n")) == {"error": "ValueError", "message": "bad n"}

    class CustomValueError(ValueError):
        pass

    assert error_payload(CustomValueError("x"))["message"] == "x"
    assert error_payload(ZeroDivisionError("secret path")) == {
        "error": "ZeroDivisionError",
        "message": INTERNAL_ERROR_MESSAGE,
    }
