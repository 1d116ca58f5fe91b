"""`make test`: choose the databases the suite runs on, then run pytest.

DATABASE_URL and REDIS_URL win when set. Otherwise the local PostgreSQL and Redis are
used when they answer, and failing that SQLite and an embedded Redis (tests marked
`postgres` are then skipped, with the reason shown by `-ra`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass

import psycopg

from agenthost.devstack.redis_server import embedded_redis, redis_answers

LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/agenthost"
# A db number of its own, so a test run's FLUSHDB never touches development data.
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"


def postgres_answers(*, url: str, timeout: int = 2) -> bool:
    # The maintenance database: the named one may not exist yet, and tests never use it.
    try:
        with psycopg.connect(url, dbname="postgres", connect_timeout=timeout):
            return True
    except psycopg.Error:
        return False


@dataclass(frozen=True)
class SuiteBackends:
    database_url: str | None  # None: SQLite in the state directory
    redis_url: str | None  # None: an embedded Redis started for the run


def suite_backends(
    *,
    environ: Mapping[str, str],
    local_database_url: str = LOCAL_DATABASE_URL,
    local_redis_url: str = LOCAL_REDIS_URL,
) -> SuiteBackends:
    database_url = environ.get("DATABASE_URL") or (
        local_database_url if postgres_answers(url=local_database_url) else None
    )
    redis_url = environ.get("REDIS_URL") or (
        local_redis_url if redis_answers(url=local_redis_url) else None
    )
    return SuiteBackends(database_url=database_url, redis_url=redis_url)


def suite_run(*, pytest_args: list[str]) -> int:
    """Run pytest on the chosen backends; pytest's exit status."""
    backends = suite_backends(environ=os.environ)
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    with ExitStack() as stack:
        if backends.database_url:
            env["DATABASE_URL"] = backends.database_url
        if backends.redis_url:
            env["REDIS_URL"] = backends.redis_url
        else:
            env["REDIS_URL"] = stack.enter_context(embedded_redis()).url
        print(
            f"tests on database {backends.database_url or 'SQLite (PostgreSQL did not answer)'}"
            f", redis {backends.redis_url or 'embedded ' + env['REDIS_URL']}",
            flush=True,
        )
        # -ra: the summary names every skipped test and why (e.g. "needs PostgreSQL").
        pytest = subprocess.Popen([sys.executable, "-m", "pytest", "-ra", *pytest_args], env=env)
        # A terminal's Ctrl-C reaches pytest directly and it tears down by itself; a
        # SIGTERM meant for the run is passed on. Either way, wait for pytest to finish.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: pytest.send_signal(signal.SIGTERM))
        return pytest.wait()
