"""The durable checkpointer: LangGraph's own savers on the project's database.

On PostgreSQL the checkpoint tables live in the Django database (the savers create and
migrate them, once per process, under an advisory lock so concurrent workers do not
race). On SQLite they live in a separate file beside the database, so a checkpoint
write never waits for Django's write lock.

A run's event loop gets its own async connection (``open_checkpointer``); web requests
and housekeeping use a synchronous one (``open_sync_checkpointer``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from typing import Any

import aiosqlite
import psycopg
from django.db import connections
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

# pg_advisory_lock key serialising checkpoint table migrations across processes.
_SETUP_LOCK_KEY = 0x61686370  # "ahcp"
_SQLITE_TIMEOUT_SECONDS = 20.0
_setup_lock = threading.Lock()
_set_up: set[str] = set()


def _settings() -> dict[str, Any]:
    # Read at call time: under pytest the NAME is the test database's.
    return connections["default"].settings_dict


def uses_postgres() -> bool:
    return _settings()["ENGINE"].endswith("postgresql")


def postgres_conninfo() -> str:
    db = _settings()
    parts = {
        "dbname": db["NAME"],
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": str(db["PORT"]) if db.get("PORT") else None,
    }
    return make_conninfo("", **{key: value for key, value in parts.items() if value})


def sqlite_path() -> str:
    return f"{_settings()['NAME']}.checkpoints"


def _postgres_connect_kwargs() -> dict[str, Any]:
    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


def checkpoint_tables_ensure() -> None:
    """Create or migrate the checkpoint tables, once per process and database."""
    target = postgres_conninfo() if uses_postgres() else sqlite_path()
    if target in _set_up:
        return
    with _setup_lock:
        if target in _set_up:
            return
        if uses_postgres():
            with psycopg.connect(target, **_postgres_connect_kwargs()) as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
                try:
                    PostgresSaver(conn).setup()
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
        else:
            with closing(sqlite3.connect(target, timeout=_SQLITE_TIMEOUT_SECONDS)) as conn:
                SqliteSaver(conn).setup()
        _set_up.add(target)


@asynccontextmanager
async def open_checkpointer() -> AsyncIterator[BaseCheckpointSaver]:
    """An async saver on a connection of its own, for one event loop."""
    checkpoint_tables_ensure()
    if uses_postgres():
        async with await psycopg.AsyncConnection.connect(
            postgres_conninfo(), **_postgres_connect_kwargs()
        ) as conn:
            yield AsyncPostgresSaver(conn)
    else:
        async with aiosqlite.connect(sqlite_path(), timeout=_SQLITE_TIMEOUT_SECONDS) as conn:
            yield AsyncSqliteSaver(conn)


@contextmanager
def open_sync_checkpointer() -> Iterator[BaseCheckpointSaver]:
    """A synchronous saver on a connection of its own."""
    checkpoint_tables_ensure()
    if uses_postgres():
        with psycopg.connect(postgres_conninfo(), **_postgres_connect_kwargs()) as conn:
            yield PostgresSaver(conn)
    else:
        conn = sqlite3.connect(
            sqlite_path(), timeout=_SQLITE_TIMEOUT_SECONDS, check_same_thread=False
        )
        with closing(conn):
            yield SqliteSaver(conn)
