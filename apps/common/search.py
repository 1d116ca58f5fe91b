"""Building blocks of the search endpoints: JSON filters, ordering, pages and field selection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.fields.json import KeyTransform
from ninja import Schema

M = TypeVar("M", bound=Model)

SortOrder = Literal["asc", "desc"]


def json_contains(
    queryset: QuerySet[M], *, field: str, value: dict[str, Any] | None
) -> QuerySet[M]:
    """Rows whose JSON `field` contains every key/value pair of `value`.

    PostgreSQL answers with JSONB containment (``@>``), so nested objects match when
    they contain the given ones. SQLite has no containment operator: there each
    top-level key is compared on its own and nested values must be equal.
    """
    if not value:
        return queryset
    if connections[queryset.db].features.supports_json_field_contains:
        return queryset.filter(**{f"{field}__contains": value})
    # A KeyTransform, unlike a `field__<key>` lookup, treats keys such as "a__b" literally.
    for index, (key, expected) in enumerate(value.items()):
        alias = f"_{field}_key_{index}"
        queryset = queryset.alias(**{alias: KeyTransform(key, field)}).filter(**{alias: expected})
    return queryset


def ordered(
    queryset: QuerySet[M], *, sort_by: str, sort_order: SortOrder, tie_breaker: str
) -> QuerySet[M]:
    """Sorted by `sort_by`, then by `tie_breaker`, so pages never overlap or skip rows."""
    sign = "-" if sort_order == "desc" else ""
    fields = [f"{sign}{sort_by}"]
    if sort_by != tie_breaker:
        fields.append(f"{sign}{tie_breaker}")
    return queryset.order_by(*fields)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    # The offset of the next page, or None when this page is the last.
    next_offset: int | None


def page_of(queryset: QuerySet[M], *, limit: int, offset: int) -> Page[M]:
    """One page; fetching one row more than asked tells whether another page follows."""
    rows = list(queryset[offset : offset + limit + 1])
    more = len(rows) > limit
    return Page(items=rows[:limit], next_offset=offset + limit if more else None)


def shaped(
    schema: type[Schema], rows: Iterable[Any], select: list[str] | None
) -> list[dict[str, Any]]:
    """`rows` in the shape of `schema`, keeping only the `select`ed fields when given."""
    include = set(select) if select else None
    return [schema.model_validate(row).model_dump(include=include) for row in rows]
