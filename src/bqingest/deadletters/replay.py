"""Dead letters: list them, and replay them (fixed or not) through the main topic, once.

The ``dead_letters`` table can hold one message more than once: Pub/Sub redelivers, and the
local runner's recovery re-reads recent messages. Every row of one message at one stage shares a
``dead_letter_id``, so everything here works per ``dead_letter_id``: a message is listed once
(its first rejection) and counts as replayed when any of its rows has ``replayed_at``.

Replaying is claim, then publish:

1. **claim**: one ``UPDATE`` sets ``replayed_at`` to this replay's own timestamp on every row of
   the selected ids that no earlier replay has claimed, and the rows carrying that timestamp are
   the ones this replay owns (a concurrent replay cannot own the same id);
2. **publish** each owned message to the main topic with its original attributes (plus
   ``bqingest-replay-of`` = the dead letter id), its body replaced when a fix is given;
3. a message Pub/Sub refuses is **released** (``replayed_at`` back to NULL) and reported, so it
   can be replayed later.

So a dead letter is never republished twice. The cost: if the process dies between 1 and 2,
claimed messages are marked replayed without having been published; ``list --replayed`` shows
them, and the claim timestamp says which run claimed them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions
from google.cloud import bigquery
from google.cloud.bigquery.table import Row

from bqingest import warehouse
from bqingest.contract import Reason, Stage

REPLAY_ATTRIBUTE: Final = "bqingest-replay-of"


class ReplayError(ValueError):
    """A replay request that cannot be carried out as asked (nothing published)."""


@dataclass(frozen=True)
class DeadLetter:
    """One rejected message (its first rejection when it was rejected more than once)."""

    dead_letter_id: str
    reason: str
    stage: str
    error_message: str
    error_field: str | None
    message_id: str | None
    publish_time: datetime | None
    failed_at: datetime
    replayed_at: datetime | None
    attributes: dict[str, str]
    raw_payload: bytes

    @staticmethod
    def from_row(row: Row) -> DeadLetter:
        attributes = row["attributes"]
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        return DeadLetter(
            dead_letter_id=row["dead_letter_id"],
            reason=row["reason"],
            stage=row["stage"],
            error_message=row["error_message"],
            error_field=row["error_field"],
            message_id=row["message_id"],
            publish_time=row["publish_time"],
            failed_at=row["failed_at"],
            replayed_at=row["replayed_at"],
            attributes={str(k): str(v) for k, v in (attributes or {}).items()},
            raw_payload=bytes(row["raw_payload"]),
        )


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


def _select_sql(table: str, selection: Selection) -> tuple[str, list[warehouse.QueryParameter]]:
    conditions = ["_n = 1"]
    parameters: list[warehouse.QueryParameter] = [
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
    rows = warehouse.query_all(bq, sql, parameters=parameters, timeout=timeout)
    return [DeadLetter.from_row(row) for row in rows]


@dataclass(frozen=True)
class Fix:
    """How to change a message before republishing it."""

    payload: bytes | None = None
    set_attributes: Mapping[str, str] = field(default_factory=dict)
    drop_attributes: tuple[str, ...] = ()

    @property
    def changes_payload(self) -> bool:
        return self.payload is not None

    def apply(self, letter: DeadLetter) -> tuple[bytes, dict[str, str]]:
        attributes = {
            k: v for k, v in letter.attributes.items() if k not in set(self.drop_attributes)
        }
        attributes.update(self.set_attributes)
        attributes[REPLAY_ATTRIBUTE] = letter.dead_letter_id
        data = self.payload if self.payload is not None else letter.raw_payload
        return data, attributes


@dataclass
class ReplayResult:
    """What a replay did: published (dead letter id -> new message id), released on failure."""

    selected: list[DeadLetter] = field(default_factory=list)
    published: dict[str, str] = field(default_factory=dict)
    already_claimed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _dml(bq: bigquery.Client, sql: str, parameters: Sequence[Any], timeout: float) -> int:
    job = bq.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=list(parameters)))
    job.result(timeout=timeout)
    return int(job.num_dml_affected_rows or 0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def replay(
    bq: bigquery.Client,
    publisher: pubsub_v1.PublisherClient,
    *,
    table: str,
    topic_path: str,
    selection: Selection,
    fix: Fix | None = None,
    dry_run: bool = False,
    clock: Callable[[], datetime] = _utc_now,
    timeout: float = 60.0,
) -> ReplayResult:
    """Republish the selected dead letters that were never replayed (module docstring)."""
    if selection.is_empty:
        raise ReplayError("choose what to replay: --id, --reason, --stage or --since (or --all)")
    fix = fix or Fix()
    candidates = list_dead_letters(
        bq, table=table, selection=replace(selection, include_replayed=False), timeout=timeout
    )
    if fix.changes_payload and len(candidates) != 1:
        raise ReplayError(
            f"a replacement payload applies to exactly one dead letter; the selection has "
            f"{len(candidates)}: select one with --id"
        )
    result = ReplayResult(selected=candidates)
    if dry_run or not candidates:
        return result

    claim = clock()
    ids = [letter.dead_letter_id for letter in candidates]
    claim_parameters = [
        bigquery.ScalarQueryParameter("claim", "TIMESTAMP", claim),
        bigquery.ArrayQueryParameter("ids", "STRING", ids),
    ]
    _dml(
        bq,
        f"UPDATE `{table}` SET replayed_at = @claim "  # noqa: S608 - table id from settings
        "WHERE dead_letter_id IN UNNEST(@ids) AND dead_letter_id NOT IN ("
        f"SELECT dead_letter_id FROM `{table}` WHERE replayed_at IS NOT NULL)",
        claim_parameters,
        timeout,
    )
    owned_rows = warehouse.query_all(
        bq,
        f"SELECT DISTINCT dead_letter_id FROM `{table}` WHERE replayed_at = @claim",  # noqa: S608
        parameters=claim_parameters[:1],
        timeout=timeout,
    )
    owned = {row["dead_letter_id"] for row in owned_rows}
    result.already_claimed = [i for i in ids if i not in owned]

    futures = []
    for letter in candidates:
        if letter.dead_letter_id not in owned:
            continue
        data, attributes = fix.apply(letter)
        try:
            futures.append((letter, publisher.publish(topic_path, data, **attributes)))
        except (ValueError, exceptions.GoogleAPIError) as exc:
            result.failed[letter.dead_letter_id] = f"{type(exc).__name__}: {exc}"
    for letter, future in futures:
        try:
            result.published[letter.dead_letter_id] = future.result(timeout=timeout)
        except (exceptions.GoogleAPIError, TimeoutError) as exc:
            result.failed[letter.dead_letter_id] = f"{type(exc).__name__}: {exc}"
    if result.failed:
        _dml(
            bq,
            f"UPDATE `{table}` SET replayed_at = NULL "  # noqa: S608 - table id from settings
            "WHERE dead_letter_id IN UNNEST(@ids) AND replayed_at = @claim",
            [
                claim_parameters[0],
                bigquery.ArrayQueryParameter("ids", "STRING", sorted(result.failed)),
            ],
            timeout,
        )
    return result
