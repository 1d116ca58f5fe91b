from __future__ import annotations

import os
import re
import runpy
import select
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agenthost.devstack.redis_server import embedded_redis, free_port, redis_answers
from agenthost.devstack.suite import postgres_answers, suite_backends
from tests.live import ROOT, child_env, start_process


@contextmanager
def exits_awaited(pids: list[int], timeout: float = 20) -> Iterator[None]:
    """Assert every process in `pids` is gone after the block, awaiting each one's pidfd.

    The pidfds are opened before the block, while the processes surely exist."""
    fds = [os.pidfd_open(pid) for pid in pids]
    try:
        yield
        for pid, fd in zip(pids, fds, strict=True):
            readable, _, _ = select.select([fd], [], [], timeout)
            assert readable, f"process {pid} is still running"
    finally:
        for fd in fds:
            os.close(fd)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_embedded_redis_answers_ping_and_is_gone_after_stop() -> None:
    with embedded_redis() as server:
        assert redis_answers(url=server.url)
        pid = server.child.popen.pid
    assert server.child.popen.returncode is not None
    assert not redis_answers(url=server.url)
    assert not Path(f"/proc/{pid}").exists()


LAUNCHER = """
import sys
from agenthost.devstack.redis_server import embedded_redis
with embedded_redis() as server:
    print(server.child.popen.pid, server.url, flush=True)
    sys.stdin.read()
"""


def test_embedded_redis_dies_with_a_killed_launcher() -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert launcher.stdout is not None
    pid, url = launcher.stdout.readline().split()
    assert redis_answers(url=url)
    with exits_awaited([int(pid)]):
        launcher.kill()
        launcher.wait()
    assert not redis_answers(url=url)


def test_suite_prefers_the_environment_then_local_services() -> None:
    closed = f"127.0.0.1:{free_port()}"
    given = {"DATABASE_URL": "sqlite:////tmp/x.sqlite3", "REDIS_URL": "redis://example:1/2"}
    chosen = suite_backends(environ=given, local_database_url="unused", local_redis_url="unused")
    assert (chosen.database_url, chosen.redis_url) == (given["DATABASE_URL"], given["REDIS_URL"])

    fallback = suite_backends(
        environ={},
        local_database_url=f"postgres://postgres@{closed}/agenthost",
        local_redis_url=f"redis://{closed}/15",
    )
    assert (fallback.database_url, fallback.redis_url) == (None, None)

    local = suite_backends(environ={}, local_redis_url=settings.REDIS_URL)
    assert local.redis_url == settings.REDIS_URL


@pytest.mark.postgres
def test_suite_finds_a_local_postgres() -> None:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/agenthost"
    assert postgres_answers(url=url)
    assert suite_backends(environ={}, local_database_url=url).database_url == url


def load_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict[str, Any]:
    """Evaluate agenthost/settings.py afresh under `env`, leaving the live settings alone."""
    for name in ("DATABASE_URL", "REDIS_URL", "DEBUG", "AGENTHOST_TEST_DATABASE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "not-a-secret")
    monkeypatch.setenv("AGENTHOST_STATE_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "agenthost" / "settings.py"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://db/agenthost"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("CELERY_BROKER_URL", "amqp://broker"),
        ("CORS_ALLOW_ALL_ORIGINS", "sometimes"),
        ("AGENTHOST_STREAM_MAXLEN", "lots"),
        ("AGENTHOST_STREAM_MAXLEN", "5"),
        ("AGENTHOST_SSE_HEARTBEAT_SECONDS", "soon"),
        ("AGENTHOST_RUN_MAX_ATTEMPTS", "0"),
    ],
)
def test_settings_refuse_garbage_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(name)):
        load_settings(monkeypatch, tmp_path, **{name: value})


def test_settings_parse_good_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded = load_settings(
        monkeypatch,
        tmp_path,
        DEBUG="yes",
        ALLOWED_HOSTS="a.example, b.example",
        DATABASE_URL="postgres://u:p@db:5433/agenthost",
        AGENTHOST_TEST_DATABASE_NAME="test_mine",
        AGENTHOST_STREAM_MAXLEN="1000",
    )
    assert loaded["DEBUG"] is True
    assert loaded["ALLOWED_HOSTS"] == ["a.example", "b.example"]
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db", 5433, "agenthost")
    assert database["TEST"] == {"NAME": "test_mine"}
    assert loaded["AGENTHOST_STREAM_MAXLEN"] == 1000


@pytest.mark.parametrize("database_url", [None, "sqlite:///{tmp}/other.sqlite3"])
def test_sqlite_settings_use_wal_immediate_and_a_lock_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str | None
) -> None:
    env = {"DATABASE_URL": database_url.format(tmp=tmp_path)} if database_url else {}
    database = load_settings(monkeypatch, tmp_path, **env)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    expected = tmp_path / ("other.sqlite3" if database_url else "db.sqlite3")
    assert Path(database["NAME"]) == expected
    options = database["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.django_db(transaction=True)
def test_make_run_launcher_serves_the_api_and_leaves_nothing_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = child_env(AGENTHOST_STATE_DIR=str(tmp_path), PORT=str(port), WORKER_CONCURRENCY="2")
    del env["REDIS_URL"]  # the launcher starts its embedded Redis
    launcher = start_process(
        "devstack",
        [sys.executable, "-m", "agenthost.devstack", "run"],
        env,
        ready_marker="Press Ctrl-C",
    )
    try:
        assert launcher._ready.wait(90), launcher.output()
        output = launcher.output()
        key = re.search(r"key:\s+(ahk_\S+)", output).group(1)
        api = f"http://127.0.0.1:{port}/api"
        assert httpx.get(f"{api}/ok").json() == {"ok": True}
        missing = f"{api}/threads/{uuid.uuid4()}"
        assert httpx.get(missing).status_code == 401
        assert httpx.get(missing, headers={"X-Api-Key": key}).status_code == 404
        assert re.search(r"login:\s+demo / \S+", output)
        admin_css = httpx.get(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert admin_css.status_code == 200

        children = children_of(launcher.popen.pid)
        assert len(children) == 3, output  # redis, web, worker
        with exits_awaited(children):
            launcher.popen.send_signal(signal.SIGINT)
            assert launcher.popen.wait(30) == 0, launcher.output()
    finally:
        launcher.stop(signal.SIGKILL)
