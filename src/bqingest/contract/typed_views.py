"""Typed views: per registered event type and major version, its events with typed columns.

Generated from the schema registry, never written by hand: ``events_<type>_v<major>``
(:func:`bqingest.contract.registry.view_name`) has the envelope columns, one column per schema
property (BigQuery types from JSON Schema types and formats, :func:`column_type`), and ``data``
itself, for fields no schema declares yet. Each view reads the ``events`` table and keeps one row
per event ``(source, id)``, as ``events_dedup`` does, with one difference: ``time`` is a key of
the de-duplicating window, so a filter on ``time`` through the view can be applied before the
window and prunes the table's partitions (every delivery of an event carries the same ``time``:
docs/adr/0009-identity-and-read-cost.md; docs/adr/0012-typed-event-data.md).

The columns are computed from the stored JSON when the view is read: a property added to a schema
is a new column for every event that carries it, including those stored before, with no table
rewrite and no backfill. A value that does not have the column's type (an event stored before its
type had a schema) reads as NULL (``SAFE_CAST``), never as a failed query.

Bootstrap creates the views locally; ``bqingest schema export`` writes one ``.sql`` file per view
for Terraform (``terraform/modules/bigquery/schemas/typed_views/``), and a test keeps the
committed files equal to the registry's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bqingest.contract.registry import EventSchema, SchemaRegistry
from bqingest.contract.schema import EVENTS, IDENTITY, WINNER_ORDER

ENVELOPE_COLUMNS: Final = tuple(
    name for name in EVENTS.column_names if name not in ("data", "attributes")
)
"""The ``events`` columns every typed view starts with (``data`` comes last; the Pub/Sub
attributes stay in ``events``)."""
TYPED_VIEWS_FOLDER: Final = "typed_views"
"""Where ``bqingest schema export`` writes the views, under the schema export folder."""
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_SCALARS: Final = {"string": "STRING", "integer": "INT64", "number": "FLOAT64", "boolean": "BOOL"}
_FORMATS: Final = {"date-time": "TIMESTAMP", "date": "DATE"}
WINDOW: Final = f"PARTITION BY {', '.join(IDENTITY)}, time ORDER BY {WINNER_ORDER}"
"""The views' de-duplication: ``time`` in the keys (an event's deliveries share it) lets a filter
on ``time`` reach the table."""


@dataclass(frozen=True, slots=True)
class TypedColumn:
    """One typed column of a view: its name, BigQuery type and where in ``data`` it comes from."""

    name: str
    type: str
    pointer: str
    """The JSON pointer of the property in ``data`` (``/items``)."""
    scalar: bool
    """A scalar (STRING, INT64, FLOAT64, BOOL, TIMESTAMP, DATE): one the API can filter on."""


def _kind(node: Mapping[str, Any]) -> str | None:
    """The one JSON type of a subschema (``["string", "null"]`` is a string), or None."""
    declared = node.get("type")
    if isinstance(declared, list):
        types = [t for t in declared if t != "null"]
        declared = types[0] if len(types) == 1 else None
    return declared if isinstance(declared, str) else None


def _properties(node: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The properties that become columns or fields: names BigQuery accepts, in schema order."""
    properties = node.get("properties") or {}
    return [
        (name, sub)
        for name, sub in properties.items()
        if _NAME.fullmatch(name) and isinstance(sub, Mapping)
    ]


def column_type(node: Mapping[str, Any]) -> str:
    """The BigQuery type of a subschema: STRING, INT64, FLOAT64, BOOL; TIMESTAMP for a
    ``date-time`` string, DATE for a ``date``; STRUCT for an object with properties; ARRAY for an
    array with typed items; JSON for anything else (no type, several types, ``$ref``...)."""
    kind = _kind(node)
    if kind == "string":
        return _FORMATS.get(str(node.get("format")), "STRING")
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "object" and _properties(node):
        fields = ", ".join(f"{name} {column_type(sub)}" for name, sub in _properties(node))
        return f"STRUCT<{fields}>"
    if kind == "array" and isinstance(node.get("items"), Mapping):
        inner = column_type(node["items"])
        if not inner.startswith("ARRAY"):  # BigQuery has no arrays of arrays
            return f"ARRAY<{inner}>"
    return "JSON"


SCALAR_TYPES: Final = ("STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATE")


def scalar_expression(name: str, type_: str, json_value: str = "data") -> str:
    """SQL of the top-level property ``name`` of ``json_value`` as the scalar ``type_``: what a
    view's column is, and what the API filters ``data.<name>`` on (one definition for both)."""
    if type_ not in SCALAR_TYPES or not _NAME.fullmatch(name):
        raise ValueError(f"not a scalar column: {name} {type_}")
    return (
        _expression({"type": "string"}, json_value, [name])
        if type_ == "STRING"
        else (f"SAFE_CAST(JSON_VALUE({json_value}, '$.{name}') AS {type_})")
    )


def _path(parts: Sequence[str]) -> str:
    return "$" + "".join(f".{part}" for part in parts)


def _expression(node: Mapping[str, Any], json_value: str, parts: Sequence[str]) -> str:
    """SQL for the value at ``parts`` of the JSON expression ``json_value``, typed as
    :func:`column_type` says; NULL when the stored value does not have that type."""
    kind = column_type(node)
    path = _path(parts)
    if kind == "STRING":
        return f"JSON_VALUE({json_value}, '{path}')"
    if kind in ("INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATE"):
        return f"SAFE_CAST(JSON_VALUE({json_value}, '{path}') AS {kind})"
    if kind.startswith("STRUCT"):
        fields = ", ".join(
            f"{_expression(sub, json_value, [*parts, name])} AS {name}"
            for name, sub in _properties(node)
        )
        return f"STRUCT({fields})"
    if kind.startswith("ARRAY"):
        items = node["items"]
        element = _expression(items, "_element", [])
        select = "SELECT AS STRUCT" if column_type(items).startswith("STRUCT") else "SELECT"
        if select == "SELECT AS STRUCT":
            element = ", ".join(
                f"{_expression(sub, '_element', [name])} AS {name}"
                for name, sub in _properties(items)
            )
        return (
            f"ARRAY({select} {element} FROM UNNEST(JSON_QUERY_ARRAY({json_value}, '{path}')) "
            "AS _element WITH OFFSET AS _offset ORDER BY _offset)"
        )
    return f"JSON_QUERY({json_value}, '{path}')"


def _column_name(name: str) -> str:
    """A property's column: its own name, or ``data_<name>`` where that is an envelope column."""
    return f"data_{name}" if name in (*ENVELOPE_COLUMNS, "data") else name


def columns(schema: EventSchema) -> list[TypedColumn]:
    """The typed columns of a schema's view, one per top-level property, in schema order."""
    return [
        TypedColumn(
            name=_column_name(name),
            type=column_type(sub),
            pointer=f"/{name}",
            scalar=column_type(sub) in SCALAR_TYPES,
        )
        for name, sub in _properties(schema.document)
    ]


def column_expression(schema: EventSchema, name: str) -> str:
    """The SQL of one top-level property's typed value, read from the ``data`` column."""
    return _expression(schema.document["properties"][name], "data", [name])


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def selects(schema: EventSchema, registry: SchemaRegistry) -> str:
    """The condition that picks a version's events: those naming its ``$id`` in ``dataschema``,
    and for the type's current version, also those naming no schema."""
    named = f"dataschema = {_literal(schema.id)}"
    current = registry.current(schema.type)
    if current is not None and current.id == schema.id:
        named = f"({named} OR dataschema IS NULL)"
    return f"type = {_literal(schema.type)} AND {named}"


def view_sql(
    schema: EventSchema, registry: SchemaRegistry, *, project: str, dataset: str, table: str
) -> str:
    """The typed view's query over the given events table."""
    projected = [f"  {', '.join(ENVELOPE_COLUMNS)}"]
    projected += [
        f"  {column_expression(schema, column.pointer[1:])} AS {column.name}"
        for column in columns(schema)
    ]
    projected.append("  data")
    return (
        f"-- Generated from the schema registry's {schema.path} ($id {schema.id}): do not edit.\n"
        f"-- One row per {schema.type} event (source, id) at major version {schema.major}, one\n"
        "-- typed column per schema property. time is a key of the window, so a filter on time\n"
        "-- prunes the partitions of the events table (docs/adr/0012-typed-event-data.md).\n"
        "SELECT\n" + ",\n".join(projected) + "\nFROM (\n"
        "  SELECT\n"
        "    *,\n"
        f"    ROW_NUMBER() OVER ({WINDOW}) AS _row_number\n"
        f"  FROM `{project}.{dataset}.{table}`\n"
        f"  WHERE {selects(schema, registry)}\n"
        ")\n"
        "WHERE _row_number = 1\n"
    )


def export(directory: Path, registry: SchemaRegistry) -> list[Path]:
    """Write ``<view>.sql`` per registered version (Terraform placeholders for the table), and
    remove the files of versions no longer registered."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted: dict[Path, str] = {
        directory / f"{schema.view}.sql": view_sql(
            schema, registry, project="${project}", dataset="${dataset}", table="${table}"
        )
        for schema in registry.schemas
    }
    for stale in directory.glob("*.sql"):
        if stale not in wanted:
            stale.unlink()
    for path, sql in wanted.items():
        path.write_text(sql, encoding="utf-8")
    return sorted(wanted)
