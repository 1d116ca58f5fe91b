"""The runs HTTP API on a real Daphne process with a real worker: shapes, codes, headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import TenantWithKey
from tests.engine_support import wait_settled
from tests.live import Process, WebServer
from tests.sse_support import SSEReader, run_status, settle, stream

pytestmark = [pytest.mark.postgres]

HI = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def alice_http(web_server: WebServer, live_alice: TenantWithKey) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web_server.api_url, headers=live_alice.headers, timeout=30) as c:
        yield c


@pytest.fixture
def bob_http(web_server: WebServer, live_bob: TenantWithKey) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web_server.api_url, headers=live_bob.headers, timeout=30) as c:
        yield c


def new_thread(client: httpx.Client) -> str:
    response = client.post("/threads", json={})
    assert response.status_code == 200, response.text
    return response.json()["thread_id"]


def burst(n: int, **extra: Any) -> dict[str, Any]:
    return {"assistant_id": "burst", "input": {**HI, "n": n}, **extra}


def test_stream_creates_a_run_and_sends_every_event_with_an_id(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    response, frames = stream(
        alice_http,
        "POST",
        f"/threads/{tid}/runs/stream",
        json=burst(5, stream_mode=["custom", "values"]),
    )
    settle(frames)
    assert response.status_code == 200
    run_id = frames[0].data["run_id"]
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["location"] == f"/threads/{tid}/runs/{run_id}/stream"
    assert response.headers["content-location"] == f"/threads/{tid}/runs/{run_id}"
    names = [frame.event for frame in frames]
    assert names[0] == "metadata"
    assert names[-1] == "end"
    assert frames[-1].data == {"run_id": run_id, "status": "success"}
    assert [f.data["i"] for f in frames if f.event == "custom"] == list(range(5))
    assert "values" in names
    ids = [frame.id for frame in frames]
    assert all(ids)
    assert len(set(ids)) == len(ids)


def test_background_run_then_join_get_list_and_delete(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    created = alice_http.post(f"/threads/{tid}/runs", json=burst(2))
    assert created.status_code == 200, created.text
    run = created.json()
    assert run["status"] == "pending"
    assert run["thread_id"] == tid
    assert created.headers["content-location"] == f"/threads/{tid}/runs/{run['run_id']}"
    assert "location" not in created.headers

    joined = alice_http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    assert joined.status_code == 200
    assert joined.json()["messages"][-1]["content"] == "echo: hi"
    wait_settled(run["run_id"])
    got = alice_http.get(f"/threads/{tid}/runs/{run['run_id']}").json()
    assert got["status"] == "success"
    assert set(got) >= {"run_id", "thread_id", "assistant_id", "created_at", "kwargs"}

    second = alice_http.post(f"/threads/{tid}/runs/wait", json=burst(1)).json()
    assert second["emitted"] == 1
    listed = alice_http.get(f"/threads/{tid}/runs").json()
    assert [r["run_id"] for r in listed][1] == run["run_id"]  # newest first
    assert len(alice_http.get(f"/threads/{tid}/runs", params={"limit": 1}).json()) == 1
    page = alice_http.get(f"/threads/{tid}/runs", params={"offset": 1}).json()
    assert [r["run_id"] for r in page] == [run["run_id"]]
    assert alice_http.get(f"/threads/{tid}/runs", params={"status": "error"}).json() == []
    narrow = alice_http.get(f"/threads/{tid}/runs", params={"select": ["run_id", "status"]})
    assert set(narrow.json()[0]) == {"run_id", "status"}
    for listed_run in listed:
        wait_settled(listed_run["run_id"])

    assert alice_http.delete(f"/threads/{tid}/runs/{run['run_id']}").status_code == 204
    gone = alice_http.get(f"/threads/{tid}/runs/{run['run_id']}")
    assert (gone.status_code, gone.json()) == (404, {"detail": "Run not found."})


def test_wait_keeps_alive_and_answers_the_final_values_with_location(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    response = alice_http.post(f"/threads/{tid}/runs/wait", json=burst(3))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["location"].endswith("/join")
    assert response.headers["location"].startswith(f"/threads/{tid}/runs/")
    body = response.json()
    assert body["emitted"] == 3
    assert body["messages"][-1]["content"] == "echo: hi"
    wait_settled(response.headers["content-location"].rsplit("/", 1)[1])


def test_a_failing_graph_streams_error_then_end_and_waits_to_an_error_body(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    _, frames = stream(alice_http, "POST", f"/threads/{tid}/runs/stream", json=burst(-1))
    settle(frames)
    assert [frame.event for frame in frames][-2:] == ["error", "end"]
    assert frames[-2].data == {"error": "ValueError", "message": "n must be >= 0, got -1"}
    assert frames[-1].data["status"] == "error"

    body = alice_http.post(f"/threads/{tid}/runs/wait", json=burst(-1))
    assert body.status_code == 200
    assert body.json()["__error__"]["error"] == "ValueError"
    wait_settled(body.headers["content-location"].rsplit("/", 1)[1])


def test_bad_input_is_answered_before_any_stream_starts(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    unknown = alice_http.post(f"/threads/{tid}/runs/stream", json={"assistant_id": "nope"})
    assert unknown.status_code == 422
    assert "Invalid assistant: 'nope'" in unknown.json()["detail"]
    bad_mode = alice_http.post(
        f"/threads/{tid}/runs/stream", json={"assistant_id": "echo", "stream_mode": "nah"}
    )
    assert bad_mode.status_code == 422
    assert "stream_mode" in str(bad_mode.json()["detail"])
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/threads/{missing}/runs/stream",
        f"/threads/{missing}/runs",
        "/threads/not-a-uuid/runs/wait",
    ):
        response = alice_http.post(path, json={"assistant_id": "echo", "input": HI})
        assert (response.status_code, response.json()) == (404, {"detail": "Thread not found."})
    assert alice_http.get(f"/threads/{missing}/runs").status_code == 404
    resume = alice_http.post(
        "/runs/wait", json={"assistant_id": "approval", "command": {"resume": "yes"}}
    )
    assert resume.status_code == 400
    assert resume.json() == {"detail": "You must provide a thread_id when resuming."}
    unknown_run = alice_http.get(f"/threads/{tid}/runs/{missing}/stream")
    assert (unknown_run.status_code, unknown_run.json()) == (404, {"detail": "Run not found."})
    assert alice_http.get(f"/runs/{missing}/join").status_code == 404
    assert alice_http.post(f"/threads/{tid}/runs/{missing}/cancel").status_code == 404


def test_if_not_exists_create_makes_the_thread(alice_http: httpx.Client, worker: Process) -> None:
    tid = "7d4c5e0a-1111-4222-8333-444455556666"
    response = alice_http.post(
        f"/threads/{tid}/runs/wait", json={**burst(0), "if_not_exists": "create"}
    )
    assert response.status_code == 200, response.text
    assert alice_http.get(f"/threads/{tid}").status_code == 200
    wait_settled(response.headers["content-location"].rsplit("/", 1)[1])


def test_reject_strategy_answers_409_while_the_thread_is_busy(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    slow = {"assistant_id": "slow", "input": {"k": 3, "delay": 0.3}}
    first = alice_http.post(f"/threads/{tid}/runs", json=slow).json()
    busy = alice_http.post(f"/threads/{tid}/runs", json={**slow, "multitask_strategy": "reject"})
    assert busy.status_code == 409
    assert busy.json()["detail"].startswith("Thread is already running a task.")
    alice_http.post(f"/threads/{tid}/runs/{first['run_id']}/cancel")
    alice_http.get(f"/threads/{tid}/runs/{first['run_id']}/join")
    wait_settled(first["run_id"])


def test_cancel_stops_a_running_run_and_its_stream_ends(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    slow = {"assistant_id": "slow", "input": {"k": 50, "delay": 0.1}, "stream_mode": "custom"}
    with alice_http.stream("POST", f"/threads/{tid}/runs/stream", json=slow) as response:
        frames = SSEReader(response).frames()
        run_id = next(frames).data["run_id"]
        assert next(frames).event == "custom"
        cancelled = alice_http.post(f"/threads/{tid}/runs/{run_id}/cancel")
        assert (cancelled.status_code, cancelled.content) == (202, b"")
        rest = list(frames)
    assert rest[-1].event == "end"
    assert rest[-1].data["status"] == "interrupted"
    assert "error" not in [frame.event for frame in rest]
    wait_settled(run_id)
    again = alice_http.post(f"/threads/{tid}/runs/{run_id}/cancel")
    assert (again.status_code, again.json()) == (404, {"detail": "No matching runs to cancel."})


def test_cancel_with_wait_answers_the_output_once_stopped(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    slow = {"assistant_id": "slow", "input": {"k": 50, "delay": 0.1}}
    run = alice_http.post(f"/threads/{tid}/runs", json=slow).json()
    response = alice_http.post(
        f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"wait": 1, "action": "interrupt"}
    )
    assert response.status_code == 200
    assert isinstance(response.json(), dict)
    assert response.headers["location"] == f"/threads/{tid}/runs/{run['run_id']}/join"
    assert run_status(run["run_id"]) == "interrupted"
    wait_settled(run["run_id"])


def test_bulk_cancel(alice_http: httpx.Client, worker: Process) -> None:
    tid = new_thread(alice_http)
    slow = {"assistant_id": "slow", "input": {"k": 50, "delay": 0.1}}
    first = alice_http.post(f"/threads/{tid}/runs", json=slow).json()
    queued = alice_http.post(f"/threads/{tid}/runs", json=slow).json()
    both = alice_http.post("/runs/cancel", json={"status": "all", "thread_id": tid})
    assert both.status_code == 422
    response = alice_http.post(
        "/runs/cancel", json={"thread_id": tid, "run_ids": [queued["run_id"]]}
    )
    assert response.status_code == 204
    assert run_status(queued["run_id"]) == "interrupted"
    assert alice_http.post("/runs/cancel", json={"status": "all"}).status_code == 204
    alice_http.get(f"/threads/{tid}/runs/{first['run_id']}/join")
    assert run_status(first["run_id"]) == "interrupted"
    nothing = alice_http.post("/runs/cancel", json={"status": "running"})
    assert (nothing.status_code, nothing.json()) == (404, {"detail": "No runs found to cancel."})
    wait_settled(first["run_id"])
    wait_settled(queued["run_id"])


def test_stateless_runs_and_their_location_resolves(
    alice_http: httpx.Client, worker: Process
) -> None:
    response, frames = stream(alice_http, "POST", "/runs/stream", json=burst(2))
    settle(frames)
    run_id = frames[0].data["run_id"]
    assert response.headers["location"] == f"/runs/{run_id}/stream"
    assert response.headers["content-location"] == f"/runs/{run_id}"
    replay_response, replay = stream(alice_http, "GET", response.headers["location"])
    assert replay_response.status_code == 200
    assert [f.id for f in replay] == [f.id for f in frames]
    joined = alice_http.get(f"/runs/{run_id}/join")
    assert joined.json()["emitted"] == 2

    waited = alice_http.post("/runs/wait", json=burst(1))
    assert waited.json()["emitted"] == 1
    assert waited.headers["location"].startswith("/runs/")
    background = alice_http.post("/runs", json=burst(1))
    assert background.status_code == 200
    assert background.headers["content-location"] == f"/runs/{background.json()['run_id']}"
    assert alice_http.get(f"/runs/{background.json()['run_id']}/join").json()["emitted"] == 1
    for done in (waited.headers["content-location"], background.headers["content-location"]):
        wait_settled(done.rsplit("/", 1)[1])


@pytest.mark.parametrize(
    "params",
    [
        {"stream_mode": "custom"},
        {"stream_mode": ["custom", "values"]},
        {"stream_mode": '["custom","values"]'},
    ],
    ids=["one", "repeated", "json-array"],
)
def test_join_filters_by_stream_mode_but_keeps_metadata_and_end(
    alice_http: httpx.Client, worker: Process, params: dict[str, Any]
) -> None:
    tid = new_thread(alice_http)
    _, created = stream(
        alice_http,
        "POST",
        f"/threads/{tid}/runs/stream",
        json=burst(2, stream_mode=["custom", "values", "updates"]),
    )
    settle(created)
    run_id = created[0].data["run_id"]
    _, frames = stream(alice_http, "GET", f"/threads/{tid}/runs/{run_id}/stream", params=params)
    modes = {"metadata", "end", "custom"} | ({"values"} if "values" in str(params) else set())
    assert {frame.event for frame in frames} == modes
    bad = alice_http.get(f"/threads/{tid}/runs/{run_id}/stream", params={"stream_mode": "nope"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "stream_mode"]


def test_resume_after_an_id_and_garbage_ids(alice_http: httpx.Client, worker: Process) -> None:
    tid = new_thread(alice_http)
    _, frames = stream(alice_http, "POST", f"/threads/{tid}/runs/stream", json=burst(10))
    settle(frames)
    run_id = frames[0].data["run_id"]
    url = f"/threads/{tid}/runs/{run_id}/stream"
    ids = [frame.id for frame in frames]
    _, after_header = stream(alice_http, "GET", url, headers={"Last-Event-ID": ids[4]})
    assert [f.id for f in after_header] == ids[5:]
    _, after_query = stream(alice_http, "GET", url, params={"lastEventId": ids[-2]})
    assert [f.id for f in after_query] == ids[-1:]
    for cursor in ("-1", "0", "garbage", "1-2-3", str(2**70)):
        _, replay = stream(alice_http, "GET", url, headers={"Last-Event-ID": cursor})
        assert [f.id for f in replay] == ids, cursor
    _, nothing = stream(alice_http, "GET", url, headers={"Last-Event-ID": ids[-1]})
    assert nothing == []
    post_join = alice_http.post(url, headers={"Last-Event-ID": ids[-3]})
    assert post_join.status_code == 200


def test_a_client_leaving_stops_the_run_only_when_asked(
    alice_http: httpx.Client, worker: Process
) -> None:
    # Each run on its own thread: `slow` counts its steps in the thread's state.
    slow = {"assistant_id": "slow", "input": {"k": 4, "delay": 0.15}, "stream_mode": "custom"}

    def leave_after_first_step(path: str, method: str = "POST", **kwargs: Any) -> str:
        with alice_http.stream(method, path, **kwargs) as response:
            frames = SSEReader(response).frames()
            first = next(frames)
            next(frames)
        return first.data["run_id"]

    tid = new_thread(alice_http)
    kept = leave_after_first_step(f"/threads/{tid}/runs/stream", json=slow)
    alice_http.get(f"/threads/{tid}/runs/{kept}/join")
    assert run_status(kept) == "success"
    wait_settled(kept)

    tid = new_thread(alice_http)
    stopped = leave_after_first_step(
        f"/threads/{tid}/runs/stream", json={**slow, "on_disconnect": "cancel"}
    )
    assert alice_http.get(f"/threads/{tid}/runs/{stopped}/join").status_code == 200
    assert run_status(stopped) == "interrupted"
    wait_settled(stopped)

    tid = new_thread(alice_http)
    run_id = alice_http.post(f"/threads/{tid}/runs", json=slow).json()["run_id"]
    leave_after_first_step(
        f"/threads/{tid}/runs/{run_id}/stream", method="GET", params={"cancel_on_disconnect": True}
    )
    alice_http.get(f"/threads/{tid}/runs/{run_id}/join")
    assert run_status(run_id) == "interrupted"
    wait_settled(run_id)


def test_join_with_an_action_cancels_then_streams_what_remains(
    alice_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    slow = {"assistant_id": "slow", "input": {"k": 50, "delay": 0.1}, "stream_mode": "custom"}
    run = alice_http.post(f"/threads/{tid}/runs", json=slow).json()
    _, frames = stream(
        alice_http,
        "GET",
        f"/threads/{tid}/runs/{run['run_id']}/stream",
        params={"action": "interrupt"},
    )
    assert frames[-1].event == "end"
    assert frames[-1].data["status"] == "interrupted"
    wait_settled(run["run_id"])


def test_bob_gets_404_on_alices_runs_everywhere(
    alice_http: httpx.Client, bob_http: httpx.Client, worker: Process
) -> None:
    tid = new_thread(alice_http)
    run = alice_http.post(f"/threads/{tid}/runs/wait", json=burst(1))
    run_id = run.headers["content-location"].rsplit("/", 1)[1]
    wait_settled(run_id)
    body = {"assistant_id": "burst", "input": HI}
    thread_gone = {"detail": "Thread not found."}
    run_gone = {"detail": "Run not found."}
    calls = [
        (bob_http.get(f"/threads/{tid}/runs"), thread_gone),
        (bob_http.post(f"/threads/{tid}/runs", json=body), thread_gone),
        (bob_http.post(f"/threads/{tid}/runs/stream", json=body), thread_gone),
        (bob_http.post(f"/threads/{tid}/runs/wait", json=body), thread_gone),
        (bob_http.get(f"/threads/{tid}/runs/{run_id}"), run_gone),
        (bob_http.delete(f"/threads/{tid}/runs/{run_id}"), run_gone),
        (bob_http.get(f"/threads/{tid}/runs/{run_id}/stream"), run_gone),
        (bob_http.post(f"/threads/{tid}/runs/{run_id}/stream"), run_gone),
        (bob_http.get(f"/threads/{tid}/runs/{run_id}/join"), run_gone),
        (bob_http.post(f"/threads/{tid}/runs/{run_id}/cancel"), run_gone),
        (bob_http.get(f"/runs/{run_id}/stream"), run_gone),
        (bob_http.get(f"/runs/{run_id}/join"), run_gone),
    ]
    for response, detail in calls:
        assert (response.status_code, response.json()) == (404, detail), response.request.url
    bulk = bob_http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [run_id]})
    assert bulk.status_code == 404
    assert alice_http.get(f"/threads/{tid}/runs/{run_id}").status_code == 200
