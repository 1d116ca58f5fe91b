"""Compact JSON for everything a graph may put in a stream chunk or its state.

orjson does the work; ``_default`` teaches it the LangGraph and LangChain types it does
not know. Anything still unknown becomes its ``str()``, so an odd value in a graph's
state never fails the run that streams it.
"""

from __future__ import annotations

import base64
import dataclasses
from collections import deque
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import orjson
from langgraph.types import Interrupt, Send

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(obj: Any) -> Any:
    if isinstance(obj, Interrupt):
        return {"value": obj.value, "id": obj.id}
    if isinstance(obj, Send):
        return {"node": obj.node, "arg": obj.arg}
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump) and not isinstance(obj, type):
        return model_dump()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {field.name: getattr(obj, field.name) for field in dataclasses.fields(obj)}
    as_dict = getattr(obj, "_asdict", None)
    if isinstance(obj, tuple) and callable(as_dict):
        return as_dict()
    if isinstance(obj, (set, frozenset, deque, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__, "message": str(obj)}
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode()
    if isinstance(obj, PurePath):
        return str(obj)
    return str(obj)


def dumps(obj: Any) -> bytes:
    """`obj` as compact JSON bytes (one line: JSON strings escape newlines)."""
    return orjson.dumps(obj, default=_default, option=_OPTIONS)


def to_jsonable(obj: Any) -> Any:
    """`obj` as plain JSON types, for a JSONField."""
    return orjson.loads(dumps(obj))
