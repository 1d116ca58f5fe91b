"""Webhooks of ended runs, delivered by the real worker to a local receiver."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from apps.runs.engine.webhook import webhook_deliver
from tests.conftest import TenantWithKey
from tests.engine_support import new_thread, read_events, start_run
from tests.live import Process

pytestmark = [pytest.mark.postgres]


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)
    received: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def next(self) -> dict[str, Any]:
        return self.received.get(timeout=15)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook = state["receiver"]
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            self.end_headers()
            hook.received.put({"status": status, "path": self.path, "body": orjson.loads(body)})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()


def test_an_ended_run_is_posted_to_its_webhook(
    live_alice: TenantWithKey, worker: Process, receiver: Receiver
) -> None:
    thread = new_thread(live_alice.tenant)
    run = start_run(live_alice.tenant, "burst", thread=thread, input={"n": 2}, webhook=receiver.url)
    read_events(run.run_id)
    hook = receiver.next()
    assert hook["path"] == "/hook"
    body = hook["body"]
    assert (body["run_id"], body["thread_id"]) == (str(run.run_id), str(thread.thread_id))
    assert (body["status"], body["error"]) == ("success", None)
    assert body["values"]["emitted"] == 2
    assert body["kwargs"]["webhook"] == receiver.url
    assert all(body[key] for key in ("run_started_at", "run_ended_at", "webhook_sent_at"))


def test_a_failing_receiver_gets_the_webhook_again(
    live_alice: TenantWithKey, worker: Process, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    run = start_run(
        live_alice.tenant,
        "burst",
        thread=new_thread(live_alice.tenant),
        input={"n": -1},
        webhook=receiver.url,
    )
    read_events(run.run_id)
    first, second = receiver.next(), receiver.next()
    assert (first["status"], second["status"]) == (503, 200)
    assert second["body"]["run_id"] == str(run.run_id)
    assert second["body"]["status"] == "error"
    assert second["body"]["error"]["error"] == "ValueError"


def test_only_http_webhooks_are_sent(receiver: Receiver) -> None:
    webhook_deliver(url="file:///etc/passwd", payload={})
    assert receiver.received.empty()
