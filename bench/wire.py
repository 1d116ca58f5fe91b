"""A minimal HTTP/1.1 client on asyncio streams, one connection per request.

The benchmark reads tens of thousands of small SSE frames a second and shares two cores
with the servers it measures, so the client must be cheap per read. Measured on the
peer's one-frame-per-write stream, httpx cost about 220 µs of CPU per frame and this
client about 100 µs, most of it in the kernel. It speaks only what the benchmark needs:
plain http, a body sent with Content-Length, and a response body that is chunked,
Content-Length-delimited or read to EOF.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

READ_SIZE = 1 << 16


class ProtocolError(Exception):
    pass


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    prefix: str  # path prefix of the API, "" or e.g. "/api"

    @classmethod
    def parse(cls, base_url: str) -> Endpoint:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http://host[:port][/prefix] is supported, got {base_url!r}")
        return cls(parts.hostname, parts.port or 80, parts.path.rstrip("/"))


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    _reader: asyncio.StreamReader
    _writer: asyncio.StreamWriter
    _idle_timeout: float
    _body: AsyncIterator[bytes] | None = field(default=None, init=False)

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, de-chunked; each item is whatever one read brought."""
        if self._body is None:
            self._body = self._iter_body()
        return self._body

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def close(self) -> None:
        self._writer.close()
        with suppress(OSError):
            await self._writer.wait_closed()

    async def _recv(self) -> bytes:
        async with asyncio.timeout(self._idle_timeout):
            return await self._reader.read(READ_SIZE)

    async def _iter_body(self) -> AsyncIterator[bytes]:
        if "chunked" in self.headers.get("transfer-encoding", ""):
            decoder = ChunkedDecoder()
            while not decoder.done:
                data = await self._recv()
                if not data:
                    raise ProtocolError("connection closed inside a chunked body")
                payload = decoder.feed(data)
                if payload:
                    yield payload
            return
        length = self.headers.get("content-length")
        remaining = int(length) if length is not None else None
        while remaining is None or remaining > 0:
            data = await self._recv()
            if not data:
                if remaining:
                    raise ProtocolError(f"connection closed {remaining} bytes short")
                return
            if remaining is not None:
                remaining -= len(data)
            yield data


class ChunkedDecoder:
    """Incremental decoder of ``Transfer-Encoding: chunked`` (extensions and trailers ignored)."""

    __slots__ = ("_buffer", "_remaining", "_skip", "done")

    def __init__(self) -> None:
        self._buffer = b""
        self._remaining = 0  # payload bytes left in the current chunk
        self._skip = 0  # bytes of the CRLF that closes a chunk, still to drop
        self.done = False

    def feed(self, data: bytes) -> bytes:
        buffer = self._buffer + data if self._buffer else data
        out = []
        position = 0
        while not self.done:
            if self._remaining:
                piece = buffer[position : position + self._remaining]
                out.append(piece)
                self._remaining -= len(piece)
                position += len(piece)
                if self._remaining:
                    break
                self._skip = 2
            if self._skip:
                dropped = min(self._skip, len(buffer) - position)
                self._skip -= dropped
                position += dropped
                if self._skip:
                    break
            end = buffer.find(b"\r\n", position)
            if end < 0:
                break
            size_field = buffer[position:end].split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_field[:20]!r}") from None
            position = end + 2
            if size == 0:
                self.done = True
            self._remaining = size
        self._buffer = buffer[position:]
        return b"".join(out)


async def request(
    endpoint: Endpoint,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    idle_timeout: float,
) -> Response:
    """Send one request on a new connection; the response's status and headers are read."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(endpoint.host, endpoint.port, limit=READ_SIZE), 10
    )
    try:
        lines = [f"{method} {endpoint.prefix}{path} HTTP/1.1", f"host: {endpoint.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append("connection: close")
        if body is not None:
            lines.append(f"content-length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        async with asyncio.timeout(idle_timeout):
            head = await reader.readuntil(b"\r\n\r\n")
    except BaseException:
        writer.close()
        raise
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1."):
        writer.close()
        raise ProtocolError(f"not an HTTP/1.x response: {status_line[:80]!r}")
    parsed = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            parsed[name.strip().lower()] = value.strip()
    return Response(
        status=int(rest[:3]),
        headers=parsed,
        _reader=reader,
        _writer=writer,
        _idle_timeout=idle_timeout,
    )
