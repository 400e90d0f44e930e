"""The shape of reconcile's counting SQL: each count is bounded on its table's partition column.

The cloud reconcile runs every hour; a filter on ``publish_time`` alone would read the whole table
each time. bqemulator cannot show pruning, so these tests read the SQL (parsed by sqlglot as
BigQuery SQL) and the parameters it is given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlglot
from google.cloud import bigquery
from sqlglot import exp

from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from bqingest.warehouse import reconcile
from bqingest.warehouse.reconcile import (
    FAILURE_CLOCK_MARGIN,
    Tables,
    dead_letters_count_sql,
    events_count_sql,
)

SINCE = datetime(2026, 11, 29, 7, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=1)
TABLES = Tables(events="p.d.events", dead_letters="p.d.dead_letters", dedup_view="p.d.events_dedup")


def top_level_bounds(sql: str) -> dict[str, str]:
    """Column -> parameter of each ``column >= @parameter`` among the WHERE's AND terms."""
    where = sqlglot.parse_one(sql, dialect="bigquery").args["where"].this
    terms = list(where.flatten()) if isinstance(where, exp.And) else [where]
    return {
        term.this.name: term.expression.name
        for term in terms
        if isinstance(term, exp.GTE) and isinstance(term.this, exp.Column)
    }


@pytest.mark.parametrize(
    ("sql", "partition_column", "parameter"),
    [
        (events_count_sql(TABLES.events), EVENTS.partition_field, "earliest_time"),
        (
            dead_letters_count_sql(TABLES.dead_letters),
            DEAD_LETTERS.partition_field,
            "earliest_failure",
        ),
    ],
)
def test_each_count_is_bounded_on_its_partition_column(
    sql: str, partition_column: str, parameter: str
) -> None:
    bounds = top_level_bounds(sql)
    assert bounds[partition_column] == parameter
    assert bounds["publish_time"] == "since"


def test_the_bounds_are_the_window_less_the_lookback_and_the_clock_margin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []

    def fake_query_all(
        bq: object, sql: str, *, parameters: list[bigquery.ScalarQueryParameter]
    ) -> list[dict[str, Any]]:
        seen.append({p.name: p.value for p in parameters})
        return [{"n": 3}] if "GROUP BY" not in sql else [{"reason": "not_json", "n": 2}]

    monkeypatch.setattr(reconcile, "query_all", fake_query_all)
    counts = reconcile.window_counts(
        object(), TABLES, SINCE, UNTIL, event_lookback=timedelta(hours=168)
    )
    assert counts.events == 3 and counts.dead_letters == {"not_json": 2}
    events, letters = seen
    assert events["earliest_time"] == SINCE - timedelta(hours=168)
    assert letters["earliest_failure"] == SINCE - FAILURE_CLOCK_MARGIN
    assert events["since"] == letters["since"] == SINCE
    assert events["until"] == letters["until"] == UNTIL


def test_a_window_near_the_first_representable_time_does_not_overflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []

    def fake_query_all(bq: object, sql: str, *, parameters: list[Any]) -> list[dict[str, Any]]:
        seen.append({p.name: p.value for p in parameters})
        return [{"n": 0}] if "GROUP BY" not in sql else []

    monkeypatch.setattr(reconcile, "query_all", fake_query_all)
    start = datetime.min.replace(tzinfo=UTC) + timedelta(minutes=5)
    reconcile.window_counts(object(), TABLES, start, UNTIL, event_lookback=timedelta(hours=1))
    assert (
        seen[0]["earliest_time"] == seen[1]["earliest_failure"] == datetime.min.replace(tzinfo=UTC)
    )
