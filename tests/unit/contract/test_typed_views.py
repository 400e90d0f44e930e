"""Typed views: columns from the schemas, SQL whose time filter reaches the table, no drift.

bqemulator cannot show partition pruning, so, as for ADR 0009's reads, the SQL itself is read
(sqlglot, BigQuery dialect): between a query on the view and the ``events`` table, ``time`` is
passed through unchanged and is a key of the only window, so a filter on it can be applied to
the table before de-duplicating.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from bqingest.contract import typed_views
from bqingest.contract.registry import (
    SHIPPED_SCHEMAS,
    EventSchema,
    SchemaRegistry,
    read_folder,
    schemas_from,
)
from bqingest.source.generator import ORDER_CREATED

COMMITTED = (
    Path(__file__).parents[3]
    / "terraform"
    / "modules"
    / "bigquery"
    / "schemas"
    / typed_views.TYPED_VIEWS_FOLDER
)
DIALECT = "https://json-schema.org/draft/2020-12/schema"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


def one(document: dict) -> tuple[EventSchema, SchemaRegistry]:
    full = {"$schema": DIALECT, "$id": "urn:t:1", "type": "object", **document}
    registry = SchemaRegistry(schemas_from({"com.example.t/v1.json": full}))
    return registry.schemas[0], registry


def test_committed_views_match_the_registry(tmp_path: Path, registry: SchemaRegistry) -> None:
    """Terraform creates the committed files: regenerate them with `bqingest schema export`."""
    typed_views.export(tmp_path, registry)
    fresh = {p.name: p.read_text() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_text() for p in COMMITTED.iterdir()}
    assert committed == fresh, (
        "terraform/modules/bigquery/schemas/typed_views drifted from the schema registry: run "
        "`bqingest schema export terraform/modules/bigquery/schemas`"
    )


def test_bigquery_types_from_json_schema_types_and_formats() -> None:
    schema, _ = one(
        {
            "properties": {
                "s": {"type": "string"},
                "i": {"type": "integer"},
                "f": {"type": "number"},
                "b": {"type": "boolean"},
                "at": {"type": "string", "format": "date-time"},
                "on": {"type": "string", "format": "date"},
                "maybe": {"type": ["string", "null"]},
                "o": {"type": "object", "properties": {"k": {"type": "integer"}}},
                "xs": {"type": "array", "items": {"type": "number"}},
                "any": {},
                "time": {"type": "string"},
                "bad-name": {"type": "string"},
            }
        }
    )
    assert [(c.name, c.type, c.scalar) for c in typed_views.columns(schema)] == [
        ("s", "STRING", True),
        ("i", "INT64", True),
        ("f", "FLOAT64", True),
        ("b", "BOOL", True),
        ("at", "TIMESTAMP", True),
        ("on", "DATE", True),
        ("maybe", "STRING", True),
        ("o", "STRUCT<k INT64>", False),
        ("xs", "ARRAY<FLOAT64>", False),
        ("any", "JSON", False),
        ("data_time", "STRING", True),  # an envelope column's name gets the data_ prefix
    ]


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, dialect="bigquery")


def test_every_view_parses_as_bigquery_sql(registry: SchemaRegistry) -> None:
    for schema in registry.schemas:
        sql = typed_views.view_sql(schema, registry, project="p-1", dataset="d", table="events")
        tree = parse(sql)
        assert "`p-1.d.events`" in sql
        names = [e.alias_or_name for e in tree.expressions]
        assert names[: len(typed_views.ENVELOPE_COLUMNS)] == list(typed_views.ENVELOPE_COLUMNS)
        assert names[-1] == "data"
        typed = [c.name for c in typed_views.columns(schema)]
        assert names[len(typed_views.ENVELOPE_COLUMNS) : -1] == typed


def test_a_time_filter_through_the_view_can_prune_the_table(registry: SchemaRegistry) -> None:
    schema = registry.current(ORDER_CREATED)
    view = typed_views.view_sql(schema, registry, project="p", dataset="d", table="events")
    tree = parse(f"SELECT order_id FROM ({view}) WHERE time >= @since")
    (table,) = [t for t in tree.find_all(exp.Table) if t.name == "events"]
    reader = table.find_ancestor(exp.Select)
    # the only window, in the SELECT that reads the table, has time among its keys
    windows = list(tree.find_all(exp.Window))
    assert len(windows) == 1 and windows[0].find_ancestor(exp.Select) is reader
    keys = {c.name for c in windows[0].args["partition_by"]}
    assert {"source", "id", "time"} <= keys
    # every SELECT from the outer query down to the reader passes time through as it is
    select = reader
    while select is not None:
        assert not select.args.get("group") and not select.args.get("distinct")
        assert not select.args.get("limit")
        if select is not reader and select is not tree:
            passed = [e for e in select.expressions if e.alias_or_name == "time"]
            star = any(isinstance(e, exp.Star) for e in select.expressions)
            assert star or (len(passed) == 1 and isinstance(passed[0], exp.Column))
        select = select.find_ancestor(exp.Select)
    # and the reader's own filter is on columns every delivery of an event shares
    filtered = {c.name for c in reader.args["where"].find_all(exp.Column)}
    assert filtered == {"type", "dataschema"}


def test_an_old_major_version_reads_only_the_events_naming_it() -> None:
    v1 = read_folder(SHIPPED_SCHEMAS)
    document = v1[f"{ORDER_CREATED}/v1.json"]
    v2 = copy.deepcopy(document)
    v2["$id"] = "https://schemas.bqingest.example/shop/order-created/2.json"
    registry = SchemaRegistry(
        schemas_from({f"{ORDER_CREATED}/v1.json": document, f"{ORDER_CREATED}/v2.json": v2})
    )
    old, new = registry.schemas
    assert (old.view, new.view) == ("events_shop_order_created_v1", "events_shop_order_created_v2")
    assert "dataschema IS NULL" not in typed_views.selects(old, registry)
    assert "dataschema IS NULL" in typed_views.selects(new, registry)


def test_export_removes_views_no_longer_registered(
    tmp_path: Path, registry: SchemaRegistry
) -> None:
    (tmp_path / "events_gone_v1.sql").write_text("SELECT 1")
    written = typed_views.export(tmp_path, registry)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
