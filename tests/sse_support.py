"""Reading the runs API's SSE and /wait responses in tests, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from apps.runs.models import Run
from tests.engine_support import wait_settled


@dataclass(frozen=True)
class Frame:
    event: str
    data: Any
    id: str | None


def parse_block(block: str) -> Frame | None:
    """One SSE block (without its blank line); None for comment-only blocks."""
    fields: dict[str, str] = {}
    for line in block.split("\r\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        assert name not in fields, f"repeated field {name!r} in {block!r}"
        fields[name] = value
    if not fields:
        return None
    assert list(fields)[:2] == ["event", "data"], block
    return Frame(event=fields["event"], data=orjson.loads(fields["data"]), id=fields.get("id"))


class SSEReader:
    """The blocks of a streaming response, as they arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments: list[str] = []
        self._chunks = response.iter_text()
        self._pending = ""

    def blocks(self) -> Iterator[str]:
        for chunk in self._chunks:
            self._pending += chunk
            *complete, self._pending = self._pending.split("\r\n\r\n")
            yield from complete
        assert self._pending == "", f"stream ended mid-frame: {self._pending!r}"

    def frames(self) -> Iterator[Frame]:
        for block in self.blocks():
            frame = parse_block(block)
            if frame is None:
                self.comments.append(block)
            else:
                yield frame


def stream(
    client: httpx.Client, method: str, url: str, **kwargs: Any
) -> tuple[httpx.Response, list[Frame]]:
    """The response and every frame of a stream read to its end."""
    with client.stream(method, url, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            return response, []
        return response, list(SSEReader(response).frames())


def settle(frames: list[Frame]) -> None:
    """Wait for the worker to archive the run(s) whose end these frames show."""
    for frame in frames:
        if frame.event == "end" and isinstance(frame.data, dict) and "run_id" in frame.data:
            wait_settled(frame.data["run_id"])


def run_status(run_id: Any) -> str | None:
    return Run.unscoped_all_tenants.filter(pk=run_id).values_list("status", flat=True).first()
