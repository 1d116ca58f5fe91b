"""What the graph behind an assistant looks like: its drawing, its JSON schemas, its subgraphs.

The SDK's ``get_graph``, ``get_schemas`` and ``get_subgraphs`` and the React
``useStream`` hook read these; they come from the compiled graph in the catalogue.
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from apps.assistants.models import Assistant
from apps.graphs.catalogue import load_graph

logger = logging.getLogger(__name__)


def _json_schema(graph_id: str, what: str, build: Any) -> dict[str, Any] | None:
    """`build()`, or None when the graph's types cannot be expressed as JSON schema."""
    try:
        return build()
    except Exception:
        logger.warning("graph %s has no %s JSON schema", graph_id, what, exc_info=True)
        return None


def _state_schema(graph: Any) -> dict[str, Any]:
    return TypeAdapter(graph.builder.state_schema).json_schema()


def _config_schema(graph: Any) -> dict[str, Any]:
    # LangGraph 1.x deprecates config schemas in favour of context schemas, but the
    # protocol still reports one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return graph.config_schema().model_json_schema()


def graph_schemas(graph_id: str, graph: Any) -> dict[str, Any]:
    """The GraphSchema of `graph`: input, output, state, config and context schemas."""
    return {
        "graph_id": graph_id,
        "input_schema": _json_schema(graph_id, "input", graph.get_input_jsonschema),
        "output_schema": _json_schema(graph_id, "output", graph.get_output_jsonschema),
        "state_schema": _json_schema(graph_id, "state", lambda: _state_schema(graph)),
        "config_schema": _json_schema(graph_id, "config", lambda: _config_schema(graph)),
        "context_schema": _json_schema(graph_id, "context", graph.get_context_jsonschema),
    }


@cache
def _catalogue_graph_schemas(graph_id: str) -> dict[str, Any]:
    # Graphs are code loaded once per process, so their schemas never change.
    return graph_schemas(graph_id, load_graph(graph_id))


def assistant_graph_schemas(*, assistant: Assistant) -> dict[str, Any]:
    return _catalogue_graph_schemas(assistant.graph_id)


def assistant_graph_drawing(*, assistant: Assistant, xray: bool | int = False) -> dict[str, Any]:
    """Nodes and edges; `xray` draws subgraphs too (an int limits the depth)."""
    graph = load_graph(assistant.graph_id)
    return graph.get_graph(config=assistant.config or None, xray=xray).to_json()


def assistant_subgraph_schemas(
    *, assistant: Assistant, namespace: str | None = None, recurse: bool = False
) -> dict[str, dict[str, Any]]:
    """The GraphSchema of each subgraph, keyed by its namespace."""
    graph = load_graph(assistant.graph_id)
    return {
        ns: graph_schemas(assistant.graph_id, subgraph)
        for ns, subgraph in graph.get_subgraphs(namespace=namespace, recurse=recurse)
    }
