"""The queries of ``bqingest reconcile``: which events arrived, which messages were dead-lettered,
and what a publish-time window holds.

Ids travel in chunks of :data:`CHUNK` as ``IN UNNEST(@ids)`` array parameters; windows are
half-open, ``since <= publish_time < until``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from google.cloud import bigquery

from bqingest.warehouse.query import query, query_all
from bqingest.warehouse.records import time_before

CHUNK: Final = 5000  # ids per IN UNNEST(@ids) query


@dataclass(frozen=True, slots=True)
class Tables:
    """The fully qualified ids reconciliation reads."""

    events: str
    dead_letters: str
    dedup_view: str


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Distinct messages of a window: written to ``events``, dead-lettered by reason."""

    events: int
    dead_letters: dict[str, int]


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _ids(values: list[str]) -> bigquery.ArrayQueryParameter:
    return bigquery.ArrayQueryParameter("ids", "STRING", values)


def _window(since: datetime, until: datetime) -> list[bigquery.ScalarQueryParameter]:
    return [
        bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
        bigquery.ScalarQueryParameter("until", "TIMESTAMP", until),
    ]


def visible_keys(bq: bigquery.Client, tables: Tables, ids: Iterable[str]) -> set[tuple[str, str]]:
    """``(source, id)`` of the events the de-duplicated view shows with one of ``ids``.

    An event is identified by source and id; the query filters on the id alone (one array
    parameter, which every engine takes) and returns every source it has, so the caller matches
    whole keys."""
    found: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted(set(ids))):
        rows = query(
            bq,
            f"SELECT source, id FROM `{tables.dedup_view}` WHERE id IN UNNEST(@ids)",  # noqa: S608
            parameters=[_ids(chunk)],
        )
        found.update((row["source"], row["id"]) for row in rows)
    return found


def dead_letter_reasons(
    bq: bigquery.Client, tables: Tables, message_ids: Iterable[str]
) -> dict[str, set[str]]:
    """Message id -> the reasons it was dead-lettered with, for those in ``dead_letters``."""
    reasons: dict[str, set[str]] = {}
    for chunk in _chunks(sorted(set(message_ids))):
        rows = query(
            bq,
            f"SELECT DISTINCT message_id, reason FROM `{tables.dead_letters}` "  # noqa: S608
            "WHERE message_id IN UNNEST(@ids)",
            parameters=[_ids(chunk)],
        )
        for row in rows:
            reasons.setdefault(row["message_id"], set()).add(row["reason"])
    return reasons


def event_messages(
    bq: bigquery.Client, tables: Tables, since: datetime, until: datetime
) -> list[tuple[str, str]]:
    """Distinct ``(event id, message id)`` of ``events`` rows published in the window."""
    rows = query_all(
        bq,
        f"SELECT DISTINCT id, message_id FROM `{tables.events}` "  # noqa: S608
        "WHERE publish_time >= @since AND publish_time < @until",
        parameters=_window(since, until),
    )
    return [(row["id"], row["message_id"]) for row in rows]


def dead_letter_messages(
    bq: bigquery.Client, tables: Tables, since: datetime, until: datetime
) -> set[str]:
    """Distinct message ids of ``dead_letters`` rows published in the window."""
    rows = query_all(
        bq,
        f"SELECT DISTINCT message_id FROM `{tables.dead_letters}` "  # noqa: S608
        "WHERE publish_time >= @since AND publish_time < @until",
        parameters=_window(since, until),
    )
    return {row["message_id"] for row in rows}


FAILURE_CLOCK_MARGIN: Final = timedelta(hours=1)
"""How far before its publish time a dead letter's ``failed_at`` may fall (the pipeline's clock
against Pub/Sub's): the dead-letter count reads partitions from the window's start less this."""


def events_count_sql(events_table: str) -> str:
    """Distinct messages of the window in ``events``. ``time`` (the partition column) is bounded
    below by ``@earliest_time``, so the query reads the window's partitions and the lookback's
    rather than the whole table; ``publish_time`` alone prunes nothing."""
    return (
        f"SELECT COUNT(DISTINCT message_id) AS n FROM `{events_table}` "  # noqa: S608
        "WHERE time >= @earliest_time AND publish_time >= @since AND publish_time < @until"
    )


def dead_letters_count_sql(dead_letter_table: str) -> str:
    """Distinct messages of the window in ``dead_letters``, by reason, pruned on ``failed_at``
    (the partition column; a message fails after it is published)."""
    return (
        "SELECT reason, COUNT(DISTINCT message_id) AS n "  # noqa: S608
        f"FROM `{dead_letter_table}` "
        "WHERE failed_at >= @earliest_failure AND publish_time >= @since "
        "AND publish_time < @until GROUP BY reason"
    )


def window_counts(
    bq: bigquery.Client,
    tables: Tables,
    since: datetime,
    until: datetime,
    *,
    event_lookback: timedelta,
) -> WindowCounts:
    """How many distinct messages of the window reached each table (dead letters by reason).

    An event whose ``time`` is more than ``event_lookback`` before ``since`` is not counted (the
    price of reading only recent partitions): a backfill of older events shows as missing."""
    [events] = query_all(
        bq,
        events_count_sql(tables.events),
        parameters=[
            *_window(since, until),
            bigquery.ScalarQueryParameter(
                "earliest_time", "TIMESTAMP", time_before(since, event_lookback)
            ),
        ],
    )
    letters = query_all(
        bq,
        dead_letters_count_sql(tables.dead_letters),
        parameters=[
            *_window(since, until),
            bigquery.ScalarQueryParameter(
                "earliest_failure", "TIMESTAMP", time_before(since, FAILURE_CLOCK_MARGIN)
            ),
        ],
    )
    return WindowCounts(
        events=int(events["n"]), dead_letters={row["reason"]: int(row["n"]) for row in letters}
    )
