"""data.<field> filters: read as the typed view reads the column, in the table's WHERE, beside
the time window, so their cost follows the window (as every read's, ADR 0009)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlglot
from sqlglot import exp

from bqingest.contract.typed_views import scalar_expression
from bqingest.warehouse.events import page_sql, where_clause
from bqingest.warehouse.records import DataFilter, EventFilter

T = datetime(2026, 11, 29, tzinfo=UTC)


def test_a_data_filter_is_a_typed_comparison_beside_the_window() -> None:
    filters = EventFilter(
        type="t",
        since=T,
        data=(DataFilter("total", "FLOAT64", 12.5), DataFilter("currency", "STRING", "EUR")),
    )
    where, parameters = where_clause(filters)
    assert "SAFE_CAST(JSON_VALUE(data, '$.total') AS FLOAT64) = @data_0" in where
    assert "JSON_VALUE(data, '$.currency') = @data_1" in where
    by_name = {p.name: (p.type_, p.value) for p in parameters}
    assert by_name["data_0"] == ("FLOAT64", 12.5)
    assert by_name["data_1"] == ("STRING", "EUR")
    tree = sqlglot.parse_one(page_sql("p.d.events", where, "asc"), dialect="bigquery")
    (table,) = [t for t in tree.find_all(exp.Table) if t.name == "events"]
    reader = table.find_ancestor(exp.Select)
    conjuncts = list(reader.args["where"].this.flatten())
    assert any("JSON_VALUE" in c.sql(dialect="bigquery") for c in conjuncts)
    assert any(
        isinstance(c, exp.GTE) and isinstance(c.this, exp.Column) and c.this.name == "time"
        for c in conjuncts
    )


def test_the_filter_and_the_view_read_a_column_the_same_way() -> None:
    assert scalar_expression("at", "TIMESTAMP") == (
        "SAFE_CAST(JSON_VALUE(data, '$.at') AS TIMESTAMP)"
    )
