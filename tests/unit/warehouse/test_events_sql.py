"""The shape of the API's SQL: filters reach the partitioned table before de-duplicating.

bqemulator cannot show partition pruning, so these tests read the SQL itself (parsed by sqlglot
as BigQuery SQL): the time window must sit in the WHERE of the SELECT that reads the ``events``
table, next to the ROW_NUMBER that de-duplicates, never above it, and the view never appears.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlglot
from sqlglot import exp

from bqingest.warehouse.events import by_id_sql, count_sql, page_sql, where_clause
from bqingest.warehouse.records import EventFilter, Position

TABLE = "p-roject.d.events"
T = datetime(2026, 11, 29, tzinfo=UTC)


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, dialect="bigquery")


def table_selects(tree: exp.Expression) -> list[exp.Select]:
    """The SELECTs that read the events table directly."""
    found = []
    for table in tree.find_all(exp.Table):
        if table.name == "events":
            select = table.find_ancestor(exp.Select)
            assert select is not None
            found.append(select)
    assert found, "the events table is not read"
    return found


def conditions_on(select: exp.Select, column: str) -> list[exp.Expression]:
    where = select.args.get("where")
    if where is None:
        return []
    return [
        node
        for node in where.find_all(exp.GTE, exp.GT, exp.LT, exp.LTE, exp.EQ)
        if isinstance(node.this, exp.Column) and node.this.name == column
    ]


def plain_conjuncts(select: exp.Select) -> list[exp.Expression]:
    """The top-level AND terms of a WHERE (what BigQuery can prune partitions with)."""
    where = select.args["where"].this
    return list(where.flatten()) if isinstance(where, exp.And) else [where]


WINDOWS = [
    EventFilter(since=T),
    EventFilter(since=T, until=T.replace(day=30)),
    EventFilter(since=T, type="t", source="s", subject="x"),
]


@pytest.mark.parametrize("filters", WINDOWS)
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("after", [None, Position(time=T, source="s", id="i")])
def test_pages_filter_the_table_by_time_before_deduplicating(filters, order, after) -> None:
    where, _ = where_clause(filters, after=after, order=order)
    tree = parse(page_sql(TABLE, where, order))
    [select] = table_selects(tree)
    window = [c for c in plain_conjuncts(select) if c in conditions_on(select, "time")]
    assert any(isinstance(c, exp.GTE) for c in window), "since is not a plain partition filter"
    if after is not None:
        assert len(window) >= 2, "the cursor's time bound is not a plain partition filter"
    # De-duplication happens in that same SELECT (after the filter), not in a view above it.
    assert select.find(exp.Window) is not None
    assert "events_dedup" not in tree.sql()
    # And the outer query keeps only the first row of each (source, id).
    window_spec = select.find(exp.Window)
    assert [c.name for c in window_spec.args["partition_by"]] == ["source", "id"]


@pytest.mark.parametrize("bucket", [None, "hour", "day"])
def test_counts_filter_the_table_by_time_before_deduplicating(bucket) -> None:
    where, _ = where_clause(EventFilter(since=T, until=T.replace(day=30)))
    tree = parse(count_sql(TABLE, where, "type", bucket))
    [select] = table_selects(tree)
    ops = {type(c) for c in plain_conjuncts(select)}
    assert {exp.GTE, exp.LT} <= ops
    assert select.find(exp.Window) is not None


@pytest.mark.parametrize("with_source", [False, True])
def test_by_id_is_a_point_lookup_on_the_clustering_column(with_source: bool) -> None:
    tree = parse(by_id_sql(TABLE, with_source=with_source))
    [select] = table_selects(tree)
    assert [c.expression.name for c in conditions_on(select, "id")] == ["id"]
    assert bool(conditions_on(select, "source")) is with_source
    assert select.find(exp.Window) is not None


def test_values_are_parameters_never_text() -> None:
    hostile = "x' OR 1=1 --"
    filters = EventFilter(since=T, type=hostile, source=hostile, subject=hostile)
    where, parameters = where_clause(filters, after=Position(T, hostile, hostile))
    assert hostile not in where
    assert {p.value for p in parameters} >= {hostile}
