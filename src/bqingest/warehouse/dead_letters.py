"""Reading and claiming dead letters: the queries behind ``bqingest deadletters``.

The ``dead_letters`` table can hold one message more than once: Pub/Sub redelivers, and the local
runner's recovery re-reads recent messages. Every row of one message at one stage shares a
``dead_letter_id``, so everything here works per ``dead_letter_id``: a message is listed once
(its first rejection) and counts as replayed when any of its rows has ``replayed_at``.

A replay claims ids with one ``UPDATE`` that stamps ``replayed_at`` with the replay's own time on
every row of the ids nobody has claimed yet (:func:`claim`); the ids carrying that stamp are the
ones the replay owns (:func:`claimed_by`), and :func:`release` gives back those it could not
publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from google.cloud import bigquery

from bqingest.contract import Reason, Stage
from bqingest.warehouse.query import QueryParameter, dml, query_all
from bqingest.warehouse.records import DeadLetter


@dataclass(frozen=True)
class Selection:
    """Which dead letters to list or replay. Filters combine with AND."""

    ids: tuple[str, ...] = ()
    reason: Reason | None = None
    stage: Stage | None = None
    since: datetime | None = None
    include_replayed: bool = False
    limit: int = 100

    @property
    def is_empty(self) -> bool:
        """No filter at all (a replay of everything must be asked for explicitly)."""
        return not self.ids and self.reason is None and self.stage is None and self.since is None


def _select_sql(table: str, selection: Selection) -> tuple[str, list[QueryParameter]]:
    conditions = ["_n = 1"]
    parameters: list[QueryParameter] = [
        bigquery.ScalarQueryParameter("limit", "INT64", selection.limit)
    ]
    if not selection.include_replayed:
        conditions.append("_replayed IS NULL")
    if selection.ids:
        conditions.append("dead_letter_id IN UNNEST(@ids)")
        parameters.append(bigquery.ArrayQueryParameter("ids", "STRING", list(selection.ids)))
    if selection.reason is not None:
        conditions.append("reason = @reason")
        parameters.append(bigquery.ScalarQueryParameter("reason", "STRING", selection.reason.value))
    if selection.stage is not None:
        conditions.append("stage = @stage")
        parameters.append(bigquery.ScalarQueryParameter("stage", "STRING", selection.stage.value))
    if selection.since is not None:
        conditions.append("failed_at >= @since")
        parameters.append(bigquery.ScalarQueryParameter("since", "TIMESTAMP", selection.since))
    # The window runs over every row of an id, so a later duplicate of an already replayed
    # message still counts as replayed.
    sql = f"""
SELECT * EXCEPT (_n, _replayed, replayed_at), _replayed AS replayed_at
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY dead_letter_id ORDER BY failed_at, publish_time) AS _n,
    MAX(replayed_at) OVER (PARTITION BY dead_letter_id) AS _replayed
  FROM `{table}`
)
WHERE {" AND ".join(conditions)}
ORDER BY failed_at, dead_letter_id
LIMIT @limit
"""  # noqa: S608 - the table id comes from settings, values are parameters
    return sql, parameters


def list_dead_letters(
    bq: bigquery.Client, *, table: str, selection: Selection, timeout: float = 60.0
) -> list[DeadLetter]:
    """The selected dead letters, oldest first, one per ``dead_letter_id``."""
    sql, parameters = _select_sql(table, selection)
    rows = query_all(bq, sql, parameters=parameters, timeout=timeout)
    return [DeadLetter.from_row(row) for row in rows]


def claim(
    bq: bigquery.Client, *, table: str, ids: Sequence[str], at: datetime, timeout: float = 60.0
) -> None:
    """Stamp ``replayed_at = at`` on every row of ``ids`` that no replay has claimed yet."""
    dml(
        bq,
        f"UPDATE `{table}` SET replayed_at = @claim "  # noqa: S608 - table id from settings
        "WHERE dead_letter_id IN UNNEST(@ids) AND dead_letter_id NOT IN ("
        f"SELECT dead_letter_id FROM `{table}` WHERE replayed_at IS NOT NULL)",
        parameters=[
            bigquery.ScalarQueryParameter("claim", "TIMESTAMP", at),
            bigquery.ArrayQueryParameter("ids", "STRING", list(ids)),
        ],
        timeout=timeout,
    )


def claimed_by(bq: bigquery.Client, *, table: str, at: datetime, timeout: float = 60.0) -> set[str]:
    """The dead letter ids whose claim carries the stamp ``at``."""
    rows = query_all(
        bq,
        f"SELECT DISTINCT dead_letter_id FROM `{table}` WHERE replayed_at = @claim",  # noqa: S608
        parameters=[bigquery.ScalarQueryParameter("claim", "TIMESTAMP", at)],
        timeout=timeout,
    )
    return {row["dead_letter_id"] for row in rows}


def release(
    bq: bigquery.Client, *, table: str, ids: Sequence[str], at: datetime, timeout: float = 60.0
) -> None:
    """Undo the claim ``at`` on ``ids`` (their messages could not be published)."""
    dml(
        bq,
        f"UPDATE `{table}` SET replayed_at = NULL "  # noqa: S608 - table id from settings
        "WHERE dead_letter_id IN UNNEST(@ids) AND replayed_at = @claim",
        parameters=[
            bigquery.ScalarQueryParameter("claim", "TIMESTAMP", at),
            bigquery.ArrayQueryParameter("ids", "STRING", sorted(ids)),
        ],
        timeout=timeout,
    )
