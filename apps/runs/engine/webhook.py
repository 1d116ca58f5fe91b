"""Webhooks: a run that asked for one is POSTed to its URL once it has ended.

The payload is built when the run is recorded (the Run object as the API shows it,
with its status, timings, final values and error) and handed to a Celery task, so
delivery retries do not depend on the run still existing. Delivery retries with
backoff on network errors, 408, 429 and 5xx; any other answer is final.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from django.db import transaction

from agenthost.celery import app
from apps.runs.engine.serde import dumps, to_jsonable
from apps.runs.models import Run
from apps.runs.schemas import run_out

logger = logging.getLogger(__name__)

WEBHOOK_TASK = "agenthost.runs.webhook"
TIMEOUT_SECONDS = 10.0
_RETRIED_STATUSES = frozenset({408, 429})


class WebhookRetry(Exception):
    """The receiver may accept the webhook later."""


def webhook_payload(*, run: Run) -> dict[str, Any]:
    payload = to_jsonable(run_out(run))
    payload.update(
        run_started_at=to_jsonable(run.started_at),
        run_ended_at=to_jsonable(run.ended_at),
        values=run.output,
        error=run.error,
    )
    return payload


def webhook_dispatch(*, run: Run) -> None:
    """Send the run's webhook after commit, if it asked for one."""
    url = run.kwargs.get("webhook")
    if not url:
        return
    payload = webhook_payload(run=run)
    transaction.on_commit(lambda: app.send_task(WEBHOOK_TASK, args=[url, payload]))


def webhook_deliver(*, url: str, payload: dict[str, Any]) -> None:
    """POST the payload; raises WebhookRetry when trying again may succeed."""
    if urlparse(url).scheme not in ("http", "https"):
        logger.warning("webhook %r is not an http(s) URL; not sent", url)
        return
    body = dumps({**payload, "webhook_sent_at": datetime.now(UTC)})
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
            return
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in _RETRIED_STATUSES:
            raise WebhookRetry(f"{url} answered {exc.code}") from exc
        logger.warning("webhook %s answered %s; not retried", url, exc.code)
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookRetry(f"{url}: {exc}") from exc
