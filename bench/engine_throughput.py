"""The run engine alone: a Celery worker executing runs into Redis, no HTTP in between.

Runs are created with the services (as the API does) and their Redis streams read
directly, so the figures are the worker's: how soon the first event is in the stream
after the run is created, how many events per second one run appends, and the
aggregate rate of many runs at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agenthost_enginebench \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m bench.engine_throughput

The database is created when missing and migrated. The graph must follow the
``burst`` contract (``{"messages", "n"}`` in, ``n`` custom events out): the test
catalogue's ``burst`` by default, or ``--graph graph`` with
``AGENTHOST_GRAPHS=<peer>/langgraph.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agenthost.settings")
os.environ.setdefault("AGENTHOST_GRAPHS", str(REPO / "tests" / "graphs" / "langgraph.json"))


def _ensure_database() -> None:
    import psycopg
    from django.conf import settings
    from psycopg import sql

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        return
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db["NAME"],))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def _start_worker(concurrency: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "celery", "-A", "agenthost", "worker", "--pool", "threads"]
    argv += ["--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip"]
    argv += ["--without-mingle", "--without-heartbeat", "--hostname", f"bench-{os.getpid()}@%h"]
    worker = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert worker.stdout is not None
    for line in worker.stdout:
        if " ready." in line:
            # Keep draining its output, or a full pipe would stall it.
            threading.Thread(target=worker.stdout.read, daemon=True).start()
            return worker
    raise RuntimeError("the worker exited before it was ready")


class Runs:
    def __init__(self, graph_id: str) -> None:
        from apps.tenancy.services import tenant_create

        self.graph_id = graph_id
        self.tenant = tenant_create(slug=f"bench-{time.time_ns()}").tenant

    def start(self, n: int) -> str:
        from apps.assistants.selectors import assistant_resolve
        from apps.runs.schemas import RunCreate
        from apps.runs.services import run_create
        from apps.tenancy.scope import tenant_scope
        from apps.threads.services import thread_create

        with tenant_scope(self.tenant):
            payload = RunCreate(
                assistant_id=self.graph_id,
                input={"messages": [{"role": "user", "content": "bench"}], "n": n},
                stream_mode=["custom"],
            )
            run = run_create(
                assistant=assistant_resolve(assistant_id=self.graph_id),
                thread=thread_create(),
                payload=payload,
            )
        return str(run.run_id)


def _follow(run_ids: list[str], started: float) -> dict[str, dict[str, Any]]:
    """Read the runs' streams to their ends.

    Per run: when this reader got the first event (seconds after `started`), and the
    Redis stream ids (milliseconds, assigned when the worker appended them) of the
    first and last custom events and of ``end``.
    """
    from agenthost.redis import sync_redis
    from apps.runs.events import events_key, parse_stream_id

    client = sync_redis()
    cursors = {events_key(run_id): "0-0" for run_id in run_ids}
    seen: dict[str, dict[str, Any]] = {key: {"custom": 0} for key in cursors}
    while cursors:
        # The block stays below the client's socket timeout.
        for key, entries in client.xread(cursors, count=10_000, block=1_000) or []:
            key = key.decode()
            stats = seen[key]
            stats.setdefault("first_read", time.perf_counter() - started)
            for entry_id, fields in entries:
                cursors[key] = entry_id.decode()
                ms = parse_stream_id(cursors[key])[0]
                stats.setdefault("first_ms", ms)
                if fields[b"e"] == b"custom":
                    stats["custom"] += 1
                    stats.setdefault("first_custom_ms", ms)
                    stats["last_custom_ms"] = ms
                elif fields[b"e"] == b"end":
                    stats["end_ms"] = ms
                    del cursors[key]
    return seen


def _single(runs: Runs, n: int) -> dict[str, float]:
    started = time.perf_counter()
    run_id = runs.start(n)
    stats = next(iter(_follow([run_id], started).values()))
    assert stats["custom"] == n, stats
    figures = {"first_event_ms": stats["first_read"] * 1000}
    if n:
        span_ms = max(stats["last_custom_ms"] - stats["first_custom_ms"], 1)
        figures["events_per_s"] = n / span_ms * 1000
        figures["run_events_per_s"] = n / max(stats["end_ms"] - stats["first_ms"], 1) * 1000
    return figures


def _concurrent(runs: Runs, streams: int, n: int) -> dict[str, float]:
    run_ids = [runs.start(n) for _ in range(streams)]
    seen = _follow(run_ids, time.perf_counter())
    total = sum(stats["custom"] for stats in seen.values())
    assert total == streams * n, total
    first = min(stats["first_ms"] for stats in seen.values())
    last = max(stats["end_ms"] for stats in seen.values())
    return {"aggregate_events_per_s": total / max(last - first, 1) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", default="burst")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency-samples", type=int, default=20)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--stream-n", type=int, default=1_000)
    parser.add_argument("--worker-concurrency", type=int, default=10)
    args = parser.parse_args()

    import django

    django.setup()
    _ensure_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    worker = _start_worker(args.worker_concurrency)
    try:
        runs = Runs(args.graph)
        _single(runs, 10)  # warm-up: imports, connections, checkpoint tables
        latency = [_single(runs, 0)["first_event_ms"] for _ in range(args.latency_samples)]
        single = [_single(runs, args.n) for _ in range(args.reps)]
        concurrent = [_concurrent(runs, args.streams, args.stream_n) for _ in range(args.reps)]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    print(
        json.dumps(
            {
                "graph": args.graph,
                "worker_concurrency": args.worker_concurrency,
                "first_event_ms_median": statistics.median(latency),
                "single_n": args.n,
                "single_events_per_s_median": statistics.median(s["events_per_s"] for s in single),
                "single_run_events_per_s_median": statistics.median(
                    s["run_events_per_s"] for s in single
                ),
                "concurrent": f"{args.streams} x {args.stream_n}",
                "concurrent_events_per_s_median": statistics.median(
                    c["aggregate_events_per_s"] for c in concurrent
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
