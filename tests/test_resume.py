"""Resuming run streams: mid-burst, on another web process, from the archive, with gaps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import connection

from agenthost.redis import sync_redis
from apps.runs.events import events_key
from apps.runs.models import Run
from tests.conftest import TenantWithKey
from tests.engine_support import wait_settled
from tests.live import Process, WebServer, running_web_server
from tests.sse_support import Frame, SSEReader, settle, stream

pytestmark = [pytest.mark.postgres]

BURST = 20_000


@pytest.fixture(scope="module")
def second_web_server(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[WebServer]:
    """Another Daphne process, with short heartbeat and keep-alive intervals."""
    with django_db_blocker.unblock():
        connection.ensure_connection()
        with running_web_server(
            AGENTHOST_SSE_HEARTBEAT_SECONDS="0.1", AGENTHOST_WAIT_KEEPALIVE_SECONDS="0.1"
        ) as server:
            yield server


def client_for(server: WebServer, tenant: TenantWithKey) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, headers=tenant.headers, timeout=60)


def start_burst_and_leave(client: httpx.Client, n: int, leave_after: int) -> list[Frame]:
    """Stream a new burst run and drop the connection after `leave_after` frames."""
    thread_id = client.post("/threads", json={}).json()["thread_id"]
    body = {
        "assistant_id": "burst",
        "input": {"messages": [{"role": "user", "content": "go"}], "n": n},
        "stream_mode": ["custom"],
    }
    seen: list[Frame] = []
    with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        for frame in SSEReader(response).frames():
            seen.append(frame)
            if len(seen) == leave_after:
                break
    return seen


def assert_exactly_once(frames: list[Frame], n: int) -> None:
    ids = [frame.id for frame in frames]
    assert len(ids) == len(set(ids)), "a frame came twice"
    counts = Counter(frame.data["i"] for frame in frames if frame.event == "custom")
    assert sorted(counts) == list(range(n))
    assert set(counts.values()) == {1}
    assert [frame.event for frame in frames].count("metadata") == 1
    assert frames[-1].event == "end"


def join_url(first: list[Frame]) -> str:
    run = Run.unscoped_all_tenants.get(pk=first[0].data["run_id"])
    return f"/threads/{run.thread_id}/runs/{run.run_id}/stream"


def test_resume_mid_burst_loses_and_repeats_nothing(
    web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    with client_for(web_server, live_alice) as client:
        first = start_burst_and_leave(client, BURST, leave_after=3_000)
        _, rest = stream(client, "GET", join_url(first), headers={"Last-Event-ID": first[-1].id})
    settle(rest)
    assert_exactly_once(first + rest, BURST)


def test_resume_on_a_second_web_process_and_a_full_join_mid_burst(
    web_server: WebServer,
    second_web_server: WebServer,
    live_alice: TenantWithKey,
    worker: Process,
) -> None:
    with (
        client_for(web_server, live_alice) as first_client,
        client_for(second_web_server, live_alice) as second_client,
    ):
        first = start_burst_and_leave(first_client, BURST, leave_after=500)
        url = join_url(first)
        with second_client.stream("GET", url, headers={"Last-Event-ID": "0"}) as full:
            with second_client.stream(
                "GET", url, headers={"Last-Event-ID": first[-1].id}
            ) as resumed:
                rest = list(SSEReader(resumed).frames())
            everything = list(SSEReader(full).frames())
    settle(rest)
    assert_exactly_once(first + rest, BURST)
    assert_exactly_once(everything, BURST)


def test_a_join_after_the_stream_expired_is_served_from_the_archive(
    web_server: WebServer, live_alice: TenantWithKey, live_bob: TenantWithKey, worker: Process
) -> None:
    with client_for(web_server, live_alice) as client:
        first = start_burst_and_leave(client, 50, leave_after=10)
        url = join_url(first)
        _, complete = stream(client, "GET", url, headers={"Last-Event-ID": first[-1].id})
        settle(complete)
        run_id = first[0].data["run_id"]
        sync_redis().delete(events_key(run_id))
        _, archived = stream(client, "GET", url)
        _, rest = stream(client, "GET", url, headers={"Last-Event-ID": first[-1].id})
    assert [f.id for f in archived] == [f.id for f in first + complete]
    assert [(f.event, f.data) for f in archived] == [(f.event, f.data) for f in first + complete]
    assert [f.id for f in rest] == [f.id for f in complete]
    with client_for(web_server, live_bob) as bob:
        for path in (url, f"/runs/{run_id}/stream"):
            refused = bob.get(path, headers={"Last-Event-ID": first[-1].id})
            assert (refused.status_code, refused.json()) == (404, {"detail": "Run not found."})


def test_trimmed_streams_fall_back_to_the_archive_or_announce_the_gap(
    web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    with client_for(web_server, live_alice) as client:
        _, frames = stream(client, "POST", "/runs/stream", json=_burst(300))
        settle(frames)
        run_id = frames[0].data["run_id"]
        url = f"/runs/{run_id}/stream"
        sync_redis().xtrim(events_key(run_id), maxlen=100, approximate=False)
        _, from_archive = stream(client, "GET", url, headers={"Last-Event-ID": frames[5].id})
        assert [f.id for f in from_archive] == [f.id for f in frames[6:]]

        Run.unscoped_all_tenants.filter(pk=run_id).update(events_archived=False)
        _, gapped = stream(client, "GET", url, headers={"Last-Event-ID": frames[5].id})
        assert gapped[0].event == "gap"
        assert gapped[0].id is None
        assert gapped[0].data == {
            "after": frames[5].id,
            "resumes_at": frames[-100].id,
            "reason": "trimmed",
        }
        assert [f.id for f in gapped[1:]] == [f.id for f in frames[-100:]]

        sync_redis().delete(events_key(run_id))
        _, expired = stream(client, "GET", url)
        assert [(f.event, f.id) for f in expired] == [("gap", None), ("end", None)]
        assert expired[0].data["reason"] == "expired"
        assert expired[1].data == {"run_id": run_id, "status": "success"}


def _burst(n: int) -> dict[str, Any]:
    return {
        "assistant_id": "burst",
        "input": {"messages": [{"role": "user", "content": "go"}], "n": n},
        "stream_mode": ["custom"],
    }


def test_heartbeats_and_keepalives_while_a_step_is_silent(
    second_web_server: WebServer, live_alice: TenantWithKey, worker: Process
) -> None:
    slow = {"assistant_id": "slow", "input": {"k": 2, "delay": 0.45}, "stream_mode": "custom"}
    with client_for(second_web_server, live_alice) as client:
        with client.stream("POST", "/runs/stream", json=slow) as response:
            reader = SSEReader(response)
            frames = list(reader.frames())
        settle(frames)
        assert [f.event for f in frames] == ["metadata", "custom", "custom", "end"]
        assert len(reader.comments) >= 4
        assert all(c.startswith(": heartbeat ") and c.endswith("s") for c in reader.comments)

        with client.stream("POST", "/runs/wait", json=slow) as waited:
            body = b"".join(waited.iter_bytes())
        assert body.startswith(b"\n\n\n")
        assert body.lstrip(b"\n").startswith(b"{")
        wait_settled(waited.headers["content-location"].rsplit("/", 1)[1])
