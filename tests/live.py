"""Real processes for tests: a Daphne web server and a Celery worker on the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django created, for child processes."""
    db = settings.DATABASES["default"]
    name = connection.settings_dict["NAME"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
        AGENTHOST_STATE_DIR=str(settings.STATE_DIR),
        PYTHONUNBUFFERED="1",
    )
    if settings.AGENTHOST_GRAPHS:
        env["AGENTHOST_GRAPHS"] = str(settings.AGENTHOST_GRAPHS)
    env.update(extra)
    return env


@dataclass
class Process:
    """A child process whose output is kept, so a failing test can show it."""

    name: str
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _ready: threading.Event = field(default_factory=threading.Event)

    def _pump(self, ready_marker: str | None) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)
            if ready_marker and ready_marker in line:
                self._ready.set()

    def output(self) -> str:
        return "".join(self.lines[-200:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def start_process(
    name: str, argv: list[str], env: dict[str, str], ready_marker: str | None = None
) -> Process:
    popen = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    process = Process(name=name, popen=popen)
    threading.Thread(target=process._pump, args=(ready_marker,), daemon=True).start()
    return process


@dataclass
class WebServer:
    process: Process
    url: str

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


@contextmanager
def running_web_server(**env: str) -> Iterator[WebServer]:
    port = free_port()
    process = start_process(
        "daphne",
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "agenthost.asgi:application",
        ],
        child_env(**env),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.popen.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{process.output()}")
            try:
                if httpx.get(f"{url}/api/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not answer in time:\n{process.output()}")
            time.sleep(0.05)
        yield WebServer(process=process, url=url)
    finally:
        process.stop()


@contextmanager
def running_worker(concurrency: int = 4, **env: str) -> Iterator[Process]:
    process = start_process(
        "celery",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "agenthost",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"test-{free_port()}@%h",
        ],
        child_env(**env),
        ready_marker=" ready.",
    )
    try:
        if not process._ready.wait(60):
            raise RuntimeError(f"celery worker did not start:\n{process.output()}")
        yield process
    finally:
        process.stop()
