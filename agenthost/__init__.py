"""agenthost: a multi-tenant host for LangGraph agents."""

from agenthost.celery import app as celery_app

__all__ = ["celery_app"]
