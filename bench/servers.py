"""Start and stop the two servers under test, and read their CPU use.

Every process is started in its own session so it is stopped as a group (with whatever
it spawned) from ``finally``, also on Ctrl-C or a failure; Ctrl-C in the terminal
reaches only this script, which then stops them in order.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bench.client import Target

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Server:
    target: Target
    # Roots of the process trees whose CPU time is charged to this server.
    pids: tuple[int, ...]

    def cpu_seconds(self) -> float:
        return process_tree_cpu(self.pids)


@dataclass(frozen=True)
class AgenthostConfig:
    database_url: str
    redis_url: str
    graphs: Path
    worker_concurrency: int


@dataclass(frozen=True)
class PeerConfig:
    venv: Path
    directory: Path
    jobs: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def agenthost_server(config: AgenthostConfig, workdir: Path) -> Iterator[Server]:
    """Daphne and one Celery worker on PostgreSQL and Redis, with a fresh tenant."""
    env = {
        **os.environ,
        "DATABASE_URL": config.database_url,
        "REDIS_URL": config.redis_url,
        "AGENTHOST_GRAPHS": str(config.graphs),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)  # the broker follows REDIS_URL
    database_ensure(config.database_url)
    manage(["migrate", "--noinput"], env=env, log=workdir / "agenthost-migrate.log")
    slug = f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    key = manage(["create_tenant", slug], env=env, log=workdir / "agenthost-tenant.log")
    port = free_port()
    with ExitStack() as stack:
        web_argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        web_argv.append("agenthost.asgi:application")
        web = stack.enter_context(child(web_argv, env=env, log=workdir / "agenthost-web.log"))
        worker_argv = [sys.executable, "-m", "celery", "-A", "agenthost", "worker"]
        worker_argv += ["--pool", "threads", "--concurrency", str(config.worker_concurrency)]
        worker_argv += ["--loglevel", "INFO", "--hostname", f"bench-{port}@%h"]
        worker_argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        worker_log = workdir / "agenthost-worker.log"
        worker = stack.enter_context(child(worker_argv, env=env, log=worker_log))
        url = f"http://127.0.0.1:{port}/api"
        wait_until(lambda: answers(f"{url}/ok"), what="daphne /api/ok", process=web)
        wait_until(lambda: " ready." in worker_log.read_text(), what="celery", process=worker)
        yield Server(
            target=Target(name="agenthost", base_url=url, headers={"x-api-key": key}),
            pids=(web.pid, worker.pid),
        )


@contextmanager
def langgraph_server(config: PeerConfig, workdir: Path) -> Iterator[Server]:
    """LangGraph's server (``langgraph dev``, in-memory runtime) via the peer's start script."""
    # The script keeps its state and log next to langgraph.json, so give it a copy of the
    # peer directory it may write into, instead of the shared one.
    peer_dir = workdir / "peer"
    peer_dir.mkdir()
    for name in ("langgraph.json", "bench_graph.py"):
        shutil.copy(config.directory / name, peer_dir / name)
    port = free_port()
    env = {
        **os.environ,
        "PEER_VENV": str(config.venv),
        "PEER_DIR": str(peer_dir),
        "PEER_LOG": str(workdir / "langgraph.log"),
    }
    script = subprocess.Popen(
        [str(config.directory / "start_peer.sh"), str(port), str(config.jobs)],
        cwd=peer_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    # The server runs in the script's process group, which outlives the script itself.
    group = script.pid
    try:
        try:
            out, err = script.communicate(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError("start_peer.sh did not finish in time") from None
        if script.returncode != 0:
            raise RuntimeError(f"start_peer.sh failed ({script.returncode}):\n{err[-2000:]}")
        pid = int(out.split()[-1])
        yield Server(
            target=Target(name="langgraph", base_url=f"http://127.0.0.1:{port}"), pids=(pid,)
        )
    finally:
        stop_group(group)


@contextmanager
def child(argv: list[str], *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        stop_group(process.pid)
        process.wait(STOP_TIMEOUT)


def stop_group(group: int) -> None:
    """SIGTERM the process group we created, then SIGKILL whatever is left of it."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and group_alive(group):
        time.sleep(0.1)
    if group_alive(group):
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def group_alive(group: int) -> bool:
    """Whether a live (not zombie) process is still in `group`."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[4] == str(group) and stat[2] != "Z":
                return True
    return False


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    process: subprocess.Popen[bytes],
    timeout: float = START_TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {process.returncode}; see logs")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout:.0f} s; see logs")
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def database_ensure(url: str) -> None:
    """Create the benchmark database if it does not exist yet."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    name = params["dbname"]
    try:
        with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, [name]).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise RuntimeError(f"cannot create database {name!r}: {exc}") from exc


def manage(args: list[str], *, env: dict[str, str], log: Path) -> str:
    """Run a management command; its last stdout line."""
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"manage.py {args[0]} did not finish in {START_TIMEOUT:.0f} s") from None
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def process_tree_cpu(roots: tuple[int, ...]) -> float:
    """User + system CPU seconds of `roots` and all their live descendants."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        children.setdefault(int(stat[3]), []).append(pid)
    ticks = 0
    pending = [pid for pid in roots if pid in stats]
    while pending:
        pid = pending.pop()
        ticks += int(stats[pid][13]) + int(stats[pid][14])
        pending.extend(children.get(pid, ()))
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat split into fields (field 1, the name, kept whole), or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    head, _, rest = raw.rpartition(")")
    return [head.split(" (", 1)[0], "comm", *rest.split()]
