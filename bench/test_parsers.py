"""The benchmark's own parsers: a miscount here would be reported as a server bug.

Run with ``.venv/bin/pytest bench``.
"""

from __future__ import annotations

import random

import pytest

from bench.sse import Frame, SSEParser
from bench.wire import ChunkedDecoder, ProtocolError


def feed_in_pieces(parser: SSEParser, stream: bytes, sizes: list[int]) -> list[Frame]:
    frames, position = [], 0
    for size in sizes:
        frames += parser.feed(stream[position : position + size])
        position += size
    return frames + parser.feed(stream[position:])


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_sse_frames_survive_any_split(newline: bytes) -> None:
    stream = newline.join(
        [
            b": heartbeat",
            b"",
            b"event: metadata",
            b'data: {"run_id":"r"}',
            b"",
            b"event: custom",
            b'data: {"i":0}',
            b"id: 1-0",
            b"",
            b"event: custom",
            b"data: a",
            b"data: b",
            b"",
            b"",
        ]
    )
    expected = [
        Frame("metadata", b'{"run_id":"r"}', None),
        Frame("custom", b'{"i":0}', "1-0"),
        Frame("custom", b"a\nb", None),
    ]
    rng = random.Random(7)
    for _ in range(100):
        sizes = [rng.randint(1, 9) for _ in range(30)]
        assert feed_in_pieces(SSEParser(), stream, sizes) == expected


def test_sse_unfinished_frame_waits() -> None:
    parser = SSEParser()
    assert parser.feed(b"event: end\ndata: null\n") == []
    assert parser.feed(b"\n") == [Frame("end", b"null", None)]


def test_chunked_body_survives_any_split() -> None:
    payloads = [b"x" * size for size in (1, 15, 16, 300, 4096)]
    encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in payloads) + b"0\r\n\r\n"
    rng = random.Random(11)
    for _ in range(100):
        decoder, body, position = ChunkedDecoder(), b"", 0
        while position < len(encoded):
            size = rng.randint(1, 40)
            body += decoder.feed(encoded[position : position + size])
            position += size
        assert decoder.done
        assert body == b"".join(payloads)


def test_chunked_rejects_a_bad_size() -> None:
    with pytest.raises(ProtocolError):
        ChunkedDecoder().feed(b"zz\r\n")
