"""Warehouse tables, derived from the contract: one definition, exported for everyone else.

The BigQuery JSON schema files under ``terraform/modules/bigquery/schemas/`` are written by
``bqingest schema export`` from these definitions; a test fails when they drift. Bootstrap (local
and GCP), the pipeline's sink (its proto descriptor) and the API all read from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from google.cloud import bigquery

ColumnType = Literal["STRING", "BYTES", "TIMESTAMP", "JSON", "INTEGER", "BOOLEAN"]
ColumnMode = Literal["REQUIRED", "NULLABLE"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a warehouse table."""

    name: str
    type: ColumnType
    mode: ColumnMode
    description: str

    def to_api(self) -> dict[str, str]:
        """The column as BigQuery's JSON schema format writes it."""
        return {
            "name": self.name,
            "type": self.type,
            "mode": self.mode,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table's columns, partitioning and clustering, independent of its deployed name."""

    role: str
    description: str
    columns: tuple[Column, ...]
    partition_field: str
    clustering: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def schema_fields(self) -> list[bigquery.SchemaField]:
        """The columns as google-cloud-bigquery SchemaField objects."""
        return [bigquery.SchemaField.from_api_repr(column.to_api()) for column in self.columns]

    def to_api(self) -> list[dict[str, str]]:
        return [column.to_api() for column in self.columns]


def _col(name: str, type_: ColumnType, mode: ColumnMode, description: str) -> Column:
    return Column(name=name, type=type_, mode=mode, description=description)


EVENTS: Final = TableSpec(
    role="events",
    description="Valid CloudEvents as ingested from Pub/Sub. At least once: read events_dedup.",
    columns=(
        _col("id", "STRING", "REQUIRED", "CloudEvents id (or the Pub/Sub message id if absent)."),
        _col("source", "STRING", "REQUIRED", "CloudEvents source: who produced the event."),
        _col("type", "STRING", "REQUIRED", "CloudEvents type, e.g. com.example.order.created."),
        _col("specversion", "STRING", "REQUIRED", "CloudEvents spec version (1.0)."),
        _col("subject", "STRING", "NULLABLE", "CloudEvents subject within the source."),
        _col("time", "TIMESTAMP", "REQUIRED", "When it happened (publish time if absent)."),
        _col("datacontenttype", "STRING", "NULLABLE", "Media type of data."),
        _col("dataschema", "STRING", "NULLABLE", "URI of the schema data adheres to."),
        _col("data", "JSON", "NULLABLE", "The event payload."),
        _col("extensions", "JSON", "NULLABLE", "CloudEvents extension attributes, if any."),
        _col("attributes", "JSON", "NULLABLE", "Pub/Sub message attributes, as received."),
        _col("message_id", "STRING", "REQUIRED", "Pub/Sub message id of this delivery."),
        _col("publish_time", "TIMESTAMP", "REQUIRED", "When Pub/Sub accepted the message."),
        _col("ingested_at", "TIMESTAMP", "REQUIRED", "When the pipeline built this row."),
    ),
    partition_field="time",
    clustering=("id",),
)

DEAD_LETTERS: Final = TableSpec(
    role="dead_letters",
    description="Messages the pipeline could not ingest, with the reason and the raw payload.",
    columns=(
        _col("dead_letter_id", "STRING", "REQUIRED", "Stable key: same message, same stage."),
        _col("raw_payload", "BYTES", "REQUIRED", "The message body exactly as received."),
        _col("attributes", "JSON", "NULLABLE", "Pub/Sub message attributes, as received."),
        _col("message_id", "STRING", "NULLABLE", "Pub/Sub message id."),
        _col("publish_time", "TIMESTAMP", "NULLABLE", "When Pub/Sub accepted the message."),
        _col("reason", "STRING", "REQUIRED", "Reason code from the contract's closed set."),
        _col("error_message", "STRING", "REQUIRED", "Human-readable explanation."),
        _col("error_field", "STRING", "NULLABLE", "The offending attribute, when there is one."),
        _col("stage", "STRING", "REQUIRED", "Where it failed: parse or sink."),
        _col("failed_at", "TIMESTAMP", "REQUIRED", "When the pipeline rejected it."),
        _col("replayed_at", "TIMESTAMP", "NULLABLE", "When it was republished, if it was."),
        _col("payload_bytes", "INTEGER", "NULLABLE", "Size of the whole message body, in bytes."),
        _col("payload_sha256", "STRING", "NULLABLE", "SHA-256 of the whole body, hex."),
        _col(
            "payload_truncated",
            "BOOLEAN",
            "NULLABLE",
            "raw_payload holds only the body's first bytes (the whole body is at payload_uri).",
        ),
        _col(
            "payload_uri",
            "STRING",
            "NULLABLE",
            "Where the whole body was archived when raw_payload is truncated (gs:// or a path).",
        ),
    ),
    partition_field="failed_at",
    clustering=("reason",),
)

TABLES: Final = (EVENTS, DEAD_LETTERS)

DEDUP_VIEW_ROLE: Final = "events_dedup"
IDENTITY: Final = ("source", "id")
"""What makes an event one event: CloudEvents ids are unique per source, not globally."""
WINNER_ORDER: Final = "publish_time, message_id, ingested_at"
"""Which copy of an event readers see: the earliest publish; a message written twice (same
publish time and message id) is settled by the earlier write, so the answer never flips."""
DEDUP_WINDOW: Final = f"PARTITION BY {', '.join(IDENTITY)} ORDER BY {WINNER_ORDER}"

# Terraform reads the exported file through templatefile(); bootstrap through str.format.
_DEDUP_VIEW_TEMPLATE: Final = f"""\
-- One row per event (source, id): the earliest publish wins, then the earliest write, so a
-- redelivered or republished event is never visible twice and always the same copy is.
-- Readers that filter by time should not use this view: its window keeps BigQuery from pruning
-- partitions (docs/adr/0009-identity-and-read-cost.md); the API reads the table directly.
SELECT * EXCEPT (_row_number)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER ({DEDUP_WINDOW}) AS _row_number
  FROM `{{project}}.{{dataset}}.{{table}}`
)
WHERE _row_number = 1
"""  # noqa: S608 - constants only; the ids are filled in from validated settings


def dedup_view_sql(*, project: str, dataset: str, table: str) -> str:
    """The ``events_dedup`` view's query over the given events table."""
    return _DEDUP_VIEW_TEMPLATE.format(project=project, dataset=dataset, table=table)


def export(directory: Path) -> list[Path]:
    """Write ``<role>.json`` per table and the ``events_dedup.sql`` Terraform template."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in TABLES:
        path = directory / f"{spec.role}.json"
        path.write_text(json.dumps(spec.to_api(), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    view = directory / f"{DEDUP_VIEW_ROLE}.sql"
    view.write_text(
        dedup_view_sql(project="${project}", dataset="${dataset}", table="${table}"),
        encoding="utf-8",
    )
    written.append(view)
    return written


def describe(spec: TableSpec) -> dict[str, Any]:
    """A summary of a table spec for humans (``bqingest schema show``)."""
    return {
        "table": spec.role,
        "description": spec.description,
        "partitioned_by": f"DAY({spec.partition_field})",
        "clustered_by": list(spec.clustering),
        "columns": spec.to_api(),
    }
