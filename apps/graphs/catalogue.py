"""The graph catalogue: which graphs this deployment serves, loaded from code.

``AGENTHOST_GRAPHS`` names a ``langgraph.json``-style file whose ``graphs`` maps a
graph id to ``./path/file.py:attr`` (relative to that file) or ``package.module:attr``.
Unset, the built-in catalogue serves. A graph that cannot be loaded is a start-up
error naming the graph and the cause.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BUILTIN_CATALOGUE = Path(__file__).resolve().parent / "builtin" / "langgraph.json"


class GraphNotFound(LookupError):
    pass


@dataclass(frozen=True)
class GraphSpec:
    graph_id: str
    target: str
    base_dir: Path


def catalogue_path() -> Path:
    return (
        Path(settings.AGENTHOST_GRAPHS).resolve()
        if settings.AGENTHOST_GRAPHS
        else (BUILTIN_CATALOGUE)
    )


@cache
def graph_specs() -> dict[str, GraphSpec]:
    path = catalogue_path()
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"graph catalogue {path} cannot be read: {exc}") from exc
    graphs = document.get("graphs") if isinstance(document, dict) else None
    if not isinstance(graphs, dict) or not graphs:
        raise ImproperlyConfigured(f"graph catalogue {path} has no 'graphs' mapping")
    specs: dict[str, GraphSpec] = {}
    for graph_id, target in graphs.items():
        if isinstance(target, dict):
            target = target.get("path")
        if not isinstance(target, str) or ":" not in target:
            raise ImproperlyConfigured(
                f"graph {graph_id!r} in {path}: expected 'path.py:attr' or 'module:attr', "
                f"got {target!r}"
            )
        specs[graph_id] = GraphSpec(graph_id=graph_id, target=target, base_dir=path.parent)
    return specs


def graph_ids() -> list[str]:
    return sorted(graph_specs())


@cache
def load_graph(graph_id: str) -> Any:
    """The graph object for `graph_id` (as defined, usually a compiled StateGraph)."""
    spec = graph_specs().get(graph_id)
    if spec is None:
        raise GraphNotFound(graph_id)
    location, _, attr = spec.target.rpartition(":")
    try:
        module = _import_location(location, spec.base_dir)
        graph = getattr(module, attr)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"graph {graph_id!r} ({spec.target}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if callable(graph) and not hasattr(graph, "astream"):
        graph = graph()
    if not hasattr(graph, "astream"):
        raise ImproperlyConfigured(
            f"graph {graph_id!r} ({spec.target}) is a {type(graph).__name__}, not a LangGraph graph"
        )
    return graph


def load_all_graphs() -> None:
    for graph_id in graph_specs():
        load_graph(graph_id)


def _import_location(location: str, base_dir: Path) -> Any:
    if location.endswith(".py") or "/" in location:
        file_path = (base_dir / location).resolve()
        digest = hashlib.sha1(str(file_path).encode()).hexdigest()[:12]
        module_name = f"agenthost_graphs_{file_path.stem}_{digest}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        module_spec = importlib.util.spec_from_file_location(module_name, file_path)
        if module_spec is None or module_spec.loader is None:
            raise FileNotFoundError(file_path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        if str(file_path.parent) not in sys.path:
            sys.path.insert(0, str(file_path.parent))
        module_spec.loader.exec_module(module)
        return module
    return importlib.import_module(location)
