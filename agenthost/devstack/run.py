"""`make run`: web, one worker and, when REDIS_URL is unset, an embedded Redis.

The launcher migrates, makes sure the demo tenant exists, starts Daphne and a Celery
worker, prints where to go and how to log in, and on Ctrl-C (or SIGTERM, SIGHUP) stops
web and worker first and Redis last, leaving nothing running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from agenthost.devstack.processes import Child, child_spawn, children_stop
from agenthost.devstack.redis_server import embedded_redis
from agenthost.env import env_int, env_str

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP_TIMEOUT = 60.0


class StartupFailed(RuntimeError):
    pass


class Interrupted(Exception):
    pass


class _Launcher:
    def __init__(self) -> None:
        self.stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stop.set())

    def check(self) -> None:
        if self.stop.is_set():
            raise Interrupted

    def manage(self, env: dict[str, str], *args: str) -> str:
        """Run a management command to completion and return its stdout."""
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        self.check()  # a terminal's Ctrl-C reaches the command too: not a failure
        if completed.returncode != 0:
            raise StartupFailed(f"manage.py {' '.join(args)} failed:\n{completed.stdout}")
        return completed.stdout

    def await_ready(self, child: Child, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not ready():
            if child.popen.poll() is not None:
                raise StartupFailed(f"{child.name} exited during start-up:\n{child.output()}")
            if time.monotonic() > deadline:
                raise StartupFailed(f"{child.name} did not come up in time:\n{child.output()}")
            if self.stop.wait(0.1):
                raise Interrupted

    def watch(self, children: list[Child]) -> list[Child]:
        """Block until a signal arrives or a child exits; return the children that died."""
        for child in children:
            threading.Thread(target=self._on_exit, args=(child,), daemon=True).start()
        self.stop.wait()
        return [child for child in children if child.popen.poll() is not None]

    def _on_exit(self, child: Child) -> None:
        child.popen.wait()
        self.stop.set()


def _web_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/ok", timeout=1) as response:
            return response.status == 200
    except OSError:  # URLError and connection errors alike
        return False


def _web_argv(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        host,
        "-p",
        str(port),
        "agenthost.asgi:application",
    ]


def _worker_argv(concurrency: int) -> list[str]:
    return [
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
    ]


def stack_run() -> int:
    """Run the development stack until interrupted; the exit status for the shell."""
    host = env_str("HOST") or "127.0.0.1"
    port = env_int("PORT", 8000, minimum=1)
    concurrency = env_int("WORKER_CONCURRENCY", 8, minimum=1)
    url = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"

    launcher = _Launcher()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    children: list[Child] = []
    with ExitStack() as stack:
        try:
            if not env.get("REDIS_URL"):
                print("Starting an embedded Redis (REDIS_URL is unset)...", flush=True)
                env["REDIS_URL"] = stack.enter_context(embedded_redis()).url
            print("Migrating the database...", flush=True)
            launcher.manage(env, "migrate", "--noinput", "--verbosity", "0")
            demo = launcher.manage(env, "bootstrap_demo")

            # Registered after Redis: web and worker stop first, Redis last.
            stack.callback(children_stop, children)
            # DEBUG (unless set) makes Django serve the admin's static files. Not for the
            # worker: Celery leaks memory under DEBUG.
            web_env = {"DEBUG": "1", **env}
            web = child_spawn(name="web", argv=_web_argv(host, port), env=web_env)
            children.append(web)
            worker = child_spawn(
                name="worker", argv=_worker_argv(concurrency), env=env, ready_marker=" ready."
            )
            children.append(worker)
            launcher.await_ready(web, lambda: _web_answers(url))
            launcher.await_ready(worker, lambda: worker.wait_ready(0))
        except StartupFailed as exc:
            print(exc, file=sys.stderr)
            return 1
        except Interrupted:
            print("Stopping...", flush=True)
            return 0

        print(
            f"\nagenthost is running at {url}/\n"
            f"  admin: {url}/admin/\n"
            f"  API:   {url}/api\n"
            f"{demo}"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        died = launcher.watch(children)
        print("Stopping...", flush=True)
        for child in died:
            print(
                f"{child.name} exited ({child.popen.returncode}):\n{child.output()}",
                file=sys.stderr,
            )
        return 1 if died else 0
