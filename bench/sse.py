"""A lean incremental Server-Sent Events parser for the benchmark client.

It is on the hot path of every measurement, so it works on whole byte frames and decodes
nothing it does not have to. Line ends may be LF or CRLF (both servers use one of them);
a bare CR as a line end, which the SSE spec also allows, is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    event: str
    data: bytes
    id: str | None


class SSEParser:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[Frame]:
        """The frames completed by `chunk`; an unfinished frame waits for the next chunk."""
        buffer = self._pending + chunk
        if b"\r" in buffer:
            # A CR left at the end pairs with the LF of the next chunk on the next call.
            buffer = buffer.replace(b"\r\n", b"\n")
        blocks = buffer.split(b"\n\n")
        self._pending = blocks.pop()
        frames = []
        for block in blocks:
            frame = _parse_block(block)
            if frame is not None:
                frames.append(frame)
        return frames


def _parse_block(block: bytes) -> Frame | None:
    event = b"message"
    data: list[bytes] = []
    event_id: bytes | None = None
    for line in block.split(b"\n"):
        if not line or line[0] == 58:  # b":" starts a comment (heartbeats)
            continue
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value
        elif name == b"id":
            event_id = value
    if not data:
        # Comment-only blocks are heartbeats; an event with no data line is not dispatched.
        return None
    return Frame(
        event=event.decode(),
        data=b"\n".join(data),
        id=event_id.decode() if event_id is not None else None,
    )
