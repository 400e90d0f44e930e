"""What has arrived: the warehouse's totals and the newest publish time written.

``bqingest up`` and ``bqingest status`` show the totals; the local runner's recovery seeks the
subscription back from the newest publish time written (docs/adr/0002-local-runner-recovery.md).
"""

from __future__ import annotations

from datetime import datetime

from google.cloud import bigquery

from bqingest.warehouse.query import query_all
from bqingest.warehouse.records import Totals


def totals(
    bq: bigquery.Client, *, events_table: str, dead_letter_table: str, timeout: float = 10.0
) -> Totals:
    """Rows and distinct events (``(source, id)``) in ``events``, dead letters by reason."""
    [events] = query_all(
        bq,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT CONCAT(source, CHR(0), id)) AS ids "  # noqa: S608
        f"FROM `{events_table}`",
        timeout=timeout,
    )
    letters = query_all(
        bq,
        "SELECT reason, COUNT(DISTINCT dead_letter_id) AS n "  # noqa: S608 - settings ids
        f"FROM `{dead_letter_table}` GROUP BY reason",
        timeout=timeout,
    )
    return Totals(
        events_rows=int(events["n"]),
        event_ids=int(events["ids"]),
        dead_letters={row["reason"]: int(row["n"]) for row in letters},
    )


def last_written_publish_time(
    bq: bigquery.Client, *, events_table: str, dead_letter_table: str, timeout: float = 30.0
) -> datetime | None:
    """The latest Pub/Sub publish time of any row in either table (None when both are empty)."""
    sql = (
        "SELECT MAX(publish_time) AS last_written FROM ("  # noqa: S608 - ids from options
        f"SELECT publish_time FROM `{events_table}` UNION ALL "
        f"SELECT publish_time FROM `{dead_letter_table}`)"
    )
    [row] = query_all(bq, sql, timeout=timeout)
    value = row["last_written"]
    return value if isinstance(value, datetime) else None
