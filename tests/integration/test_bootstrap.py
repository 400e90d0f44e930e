"""Bootstrap creates every resource, is a no-op the second time, and reconciles drift."""

from __future__ import annotations

import pytest
from google.cloud import bigquery, pubsub_v1

from bqingest.bootstrap import BootstrapError, bootstrap
from bqingest.config import LocalSettings
from bqingest.contract.registry import SchemaRegistry
from bqingest.contract.schema import DEAD_LETTERS, EVENTS


def run(
    settings: LocalSettings,
    bq: bigquery.Client,
    publisher: pubsub_v1.PublisherClient,
    subscriber: pubsub_v1.SubscriberClient,
):  # type: ignore[no-untyped-def]
    return bootstrap(settings, bigquery_client=bq, publisher=publisher, subscriber=subscriber)


def test_creates_everything_then_is_a_no_op(settings, bq, publisher, subscriber) -> None:
    first = run(settings, bq, publisher, subscriber)
    # topic, subscription, dataset, two tables, the dedup view, one typed view per schema
    typed = [
        f"{settings.project}.{settings.dataset}.{s.view}" for s in SchemaRegistry.load().schemas
    ]
    assert len(first.created) == 6 + len(typed)
    assert set(typed) <= set(first.created)
    assert not first.updated
    second = run(settings, bq, publisher, subscriber)
    assert not second.changed
    assert sorted(second.unchanged) == sorted(first.created)


def test_resources_have_the_configured_shape(settings, bq, publisher, subscriber) -> None:
    run(settings, bq, publisher, subscriber)
    subscription = subscriber.get_subscription(subscription=settings.subscription_path)
    assert subscription.topic == settings.topic_path
    assert subscription.ack_deadline_seconds == settings.ack_deadline_seconds
    # Dataflow supports neither: bad messages go to the dead_letters table, never elsewhere.
    assert not subscription.dead_letter_policy.dead_letter_topic
    assert not subscription.retry_policy.minimum_backoff
    assert subscription.retain_acked_messages is True

    events = bq.get_table(settings.events_table_id)
    assert [f.name for f in events.schema] == list(EVENTS.column_names)
    assert {f.name: f.mode for f in events.schema}["id"] == "REQUIRED"
    assert events.time_partitioning.field == "time"
    assert events.clustering_fields == ["id"]
    dead = bq.get_table(settings.dead_letter_table_id)
    assert [f.name for f in dead.schema] == list(DEAD_LETTERS.column_names)
    assert bq.get_table(settings.dedup_view_id).table_type == "VIEW"


def test_drifted_subscription_is_updated(settings, bq, publisher, subscriber) -> None:
    run(settings, bq, publisher, subscriber)
    changed = settings.model_copy(update={"ack_deadline_seconds": 120})
    report = run(changed, bq, publisher, subscriber)
    assert report.updated == [f"{settings.subscription_path} (ack_deadline_seconds)"]
    current = subscriber.get_subscription(subscription=settings.subscription_path)
    assert current.ack_deadline_seconds == 120


def test_a_dead_letter_and_retry_policy_left_by_an_older_bootstrap_are_removed(
    settings, bq, publisher, subscriber
) -> None:
    publisher.create_topic(name=settings.topic_path)
    publisher.create_topic(name=f"{settings.topic_path}-dead-letter")
    subscriber.create_subscription(
        request=pubsub_v1.types.Subscription(
            name=settings.subscription_path,
            topic=settings.topic_path,
            ack_deadline_seconds=settings.ack_deadline_seconds,
            retain_acked_messages=True,
            dead_letter_policy=pubsub_v1.types.DeadLetterPolicy(
                dead_letter_topic=f"{settings.topic_path}-dead-letter", max_delivery_attempts=5
            ),
            retry_policy=pubsub_v1.types.RetryPolicy(minimum_backoff={"seconds": 10}),
        )
    )
    report = run(settings, bq, publisher, subscriber)
    [updated] = [line for line in report.updated if line.startswith(settings.subscription_path)]
    assert "dead_letter_policy" in updated and "retry_policy" in updated
    current = subscriber.get_subscription(subscription=settings.subscription_path)
    assert not current.dead_letter_policy.dead_letter_topic
    assert not current.retry_policy.minimum_backoff


def test_missing_nullable_column_is_added(settings, bq, publisher, subscriber) -> None:
    run(settings, bq, publisher, subscriber)
    table = bq.get_table(settings.events_table_id)
    bq.delete_table(table)
    trimmed = bigquery.Table(
        settings.events_table_id, schema=[f for f in table.schema if f.name != "dataschema"]
    )
    bq.create_table(trimmed)
    report = run(settings, bq, publisher, subscriber)
    assert report.updated == [f"{settings.events_table_id} (+dataschema)"]
    assert "dataschema" in [f.name for f in bq.get_table(settings.events_table_id).schema]


def test_changed_column_type_needs_a_migration(settings, bq, publisher, subscriber) -> None:
    run(settings, bq, publisher, subscriber)
    bq.delete_table(settings.dead_letter_table_id)
    wrong = [
        bigquery.SchemaField(c.name, "STRING" if c.name == "raw_payload" else c.type, mode=c.mode)
        for c in DEAD_LETTERS.columns
    ]
    bq.create_table(bigquery.Table(settings.dead_letter_table_id, schema=wrong))
    with pytest.raises(BootstrapError, match="raw_payload is STRING, the contract says BYTES"):
        run(settings, bq, publisher, subscriber)
