"""Create every Pub/Sub and BigQuery resource bqingest needs, idempotently.

Locally this is how the emulators get their topics and tables; against GCP (no emulator host
set) it does the same for a project that Terraform does not manage, such as a personal sandbox.
Terraform remains the source of truth in deployed environments: bootstrap never deletes and never
narrows anything. Running it twice changes nothing the second time; a resource that exists with a
different configuration is updated where that is safe (new NULLABLE columns, subscription
settings, the view's query) and reported as an error where it is not (a changed column type).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions
from google.cloud import bigquery
from google.protobuf import duration_pb2, field_mask_pb2

from bqingest.config import OperationsSettings
from bqingest.contract import typed_views
from bqingest.contract.registry import SchemaRegistry
from bqingest.contract.schema import DEAD_LETTERS, EVENTS, TableSpec, dedup_view_sql
from bqingest.errors import BqingestError


class BootstrapError(BqingestError):
    """A resource exists in a shape bootstrap cannot safely change (a migration is needed)."""


@dataclass
class BootstrapReport:
    """What bootstrap did to each resource, by kind: created, updated or already as wanted."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _duration(seconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds)


def _wanted_subscription(settings: OperationsSettings) -> pubsub_v1.types.Subscription:
    """The pipeline's subscription: no dead-letter policy and no retry policy.

    Dataflow acknowledges on its own terms and does not support either (Pub/Sub's documentation
    on Dataflow); a dead-letter policy would forward messages out of the pipeline's path. Bad
    messages go to the ``dead_letters`` table instead. Both are listed as managed fields so that
    a subscription an older bootstrap made with them gets them removed.
    """
    return pubsub_v1.types.Subscription(
        name=settings.subscription_path,
        topic=settings.topic_path,
        ack_deadline_seconds=settings.ack_deadline_seconds,
        retain_acked_messages=settings.retain_acked_messages,
        message_retention_duration=_duration(settings.message_retention_seconds),
    )


_MANAGED_SUBSCRIPTION_FIELDS = (
    "ack_deadline_seconds",
    "retain_acked_messages",
    "message_retention_duration",
    "retry_policy",
    "dead_letter_policy",
)


def _ensure_topic(publisher: pubsub_v1.PublisherClient, path: str, report: BootstrapReport) -> None:
    try:
        publisher.create_topic(name=path)
        report.created.append(path)
    except exceptions.AlreadyExists:
        report.unchanged.append(path)


def _ensure_subscription(
    subscriber: pubsub_v1.SubscriberClient,
    wanted: pubsub_v1.types.Subscription,
    report: BootstrapReport,
) -> None:
    try:
        subscriber.create_subscription(request=wanted)
        report.created.append(wanted.name)
        return
    except exceptions.AlreadyExists:
        pass
    current = subscriber.get_subscription(subscription=wanted.name)
    if current.topic != wanted.topic:
        raise BootstrapError(
            f"{wanted.name} exists on {current.topic}, not {wanted.topic}: a subscription cannot "
            "move to another topic; delete it or choose another BQINGEST_SUBSCRIPTION"
        )
    drift = [
        name
        for name in _MANAGED_SUBSCRIPTION_FIELDS
        if getattr(current, name) != getattr(wanted, name)
    ]
    if not drift:
        report.unchanged.append(wanted.name)
        return
    subscriber.update_subscription(
        request={"subscription": wanted, "update_mask": field_mask_pb2.FieldMask(paths=drift)}
    )
    report.updated.append(f"{wanted.name} ({', '.join(drift)})")


def _ensure_table(
    client: bigquery.Client, table_id: str, spec: TableSpec, report: BootstrapReport
) -> None:
    table = bigquery.Table(table_id, schema=spec.schema_fields())
    table.description = spec.description
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field=spec.partition_field
    )
    table.clustering_fields = list(spec.clustering)
    try:
        client.create_table(table)
        report.created.append(table_id)
        return
    except exceptions.Conflict:
        pass
    current = client.get_table(table_id)
    existing = {column.name: column for column in current.schema}
    missing: list[bigquery.SchemaField] = []
    for column in spec.columns:
        have = existing.get(column.name)
        if have is None:
            if column.mode == "REQUIRED":
                raise BootstrapError(
                    f"{table_id} lacks REQUIRED column {column.name}; BigQuery cannot add a "
                    "REQUIRED column to an existing table: migrate it (see docs/contract.md)"
                )
            missing.append(bigquery.SchemaField.from_api_repr(column.to_api()))
        elif have.field_type != column.type:
            raise BootstrapError(
                f"{table_id}.{column.name} is {have.field_type}, the contract says {column.type}"
            )
    if not missing:
        report.unchanged.append(table_id)
        return
    current.schema = [*current.schema, *missing]
    client.update_table(current, ["schema"])
    report.updated.append(f"{table_id} (+{', '.join(c.name for c in missing)})")


_VIEW_SQL_LABEL = "bqingest-sql-sha256"


def _ensure_view(
    client: bigquery.Client, settings: OperationsSettings, report: BootstrapReport
) -> None:
    """Create the dedup view, or replace its query when the contract's SQL changed.

    The view carries a label with a hash of its SQL: bqemulator does not return a view's query,
    so comparing labels is what tells, on both backends, whether the deployed SQL is current.
    """
    wanted_sql = dedup_view_sql(
        project=settings.project, dataset=settings.dataset, table=settings.events_table
    )
    description = "One row per event id from the events table (earliest publish wins)."
    _ensure_view_sql(client, settings.dedup_view_id, wanted_sql, description, report)


def _ensure_typed_views(
    client: bigquery.Client, settings: OperationsSettings, report: BootstrapReport
) -> None:
    """One typed view per registered type and major version (docs/schemas.md); a schema that
    gained a property changes its view's query, which is all that evolution needs."""
    registry = SchemaRegistry.load(settings.schemas_dir)
    for schema in registry.schemas:
        sql = typed_views.view_sql(
            schema,
            registry,
            project=settings.project,
            dataset=settings.dataset,
            table=settings.events_table,
        )
        description = f"{schema.type} events (v{schema.major}), typed columns from {schema.id}"
        view_id = f"{settings.project}.{settings.dataset}.{schema.view}"
        _ensure_view_sql(client, view_id, sql, description[:1024], report)


def _ensure_view_sql(
    client: bigquery.Client,
    view_id: str,
    wanted_sql: str,
    description: str,
    report: BootstrapReport,
) -> None:
    fingerprint = hashlib.sha256(wanted_sql.encode()).hexdigest()[:32]
    view = bigquery.Table(view_id)
    view.view_query = wanted_sql
    view.description = description
    view.labels = {_VIEW_SQL_LABEL: fingerprint}
    try:
        client.create_table(view)
        report.created.append(view_id)
        return
    except exceptions.Conflict:
        pass
    current = client.get_table(view_id)
    if current.table_type != "VIEW":
        raise BootstrapError(f"{view_id} exists but is a {current.table_type}, not a view")
    if current.labels.get(_VIEW_SQL_LABEL) == fingerprint:
        report.unchanged.append(view_id)
        return
    current.view_query = wanted_sql
    current.labels = {**current.labels, _VIEW_SQL_LABEL: fingerprint}
    client.update_table(current, ["view_query", "labels"])
    report.updated.append(f"{view_id} (query)")


def bootstrap(
    settings: OperationsSettings,
    *,
    bigquery_client: bigquery.Client,
    publisher: pubsub_v1.PublisherClient,
    subscriber: pubsub_v1.SubscriberClient,
) -> BootstrapReport:
    """Create or reconcile the topic, the subscription, the dataset, both tables, the view and
    the typed views of the schema registry."""
    report = BootstrapReport()
    _ensure_topic(publisher, settings.topic_path, report)
    _ensure_subscription(subscriber, _wanted_subscription(settings), report)

    dataset = bigquery.Dataset(f"{settings.project}.{settings.dataset}")
    dataset.location = settings.location
    dataset.description = "bqingest: events ingested from Pub/Sub and the messages it rejected."
    try:
        bigquery_client.create_dataset(dataset)
        report.created.append(dataset.dataset_id)
    except exceptions.Conflict:
        report.unchanged.append(dataset.dataset_id)
    _ensure_table(bigquery_client, settings.events_table_id, EVENTS, report)
    _ensure_table(bigquery_client, settings.dead_letter_table_id, DEAD_LETTERS, report)
    _ensure_view(bigquery_client, settings, report)
    _ensure_typed_views(bigquery_client, settings, report)
    return report
