"""Whether the warehouse and Pub/Sub answer: metadata calls, free of charge, no SQL."""

from __future__ import annotations

import google.cloud.pubsub_v1 as pubsub_v1
from google.cloud import bigquery


def check_view(client: bigquery.Client, *, view_id: str, timeout: float) -> None:
    """Raise unless the de-duplicated view exists and we may read its metadata."""
    client.get_table(view_id, timeout=timeout)


def check_topic(publisher: pubsub_v1.PublisherClient, *, topic_path: str, timeout: float) -> None:
    """Raise unless the topic exists and we may read its metadata."""
    publisher.get_topic(topic=topic_path, timeout=timeout)
