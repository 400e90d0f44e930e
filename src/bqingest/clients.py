"""Google Cloud clients built from Settings: the emulators locally, GCP everywhere else.

This is the only place that knows the difference. Locally the clients get anonymous credentials
and plain-text endpoints; in the cloud they use Application Default Credentials (the service
account of Cloud Run or Dataflow). Everything above this module is the same code in both places.
"""

from __future__ import annotations

import google.cloud.pubsub_v1 as pubsub_v1
import grpc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient
from google.cloud.bigquery_storage_v1.services.big_query_write.transports import (
    BigQueryWriteGrpcTransport,
)
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from bqingest.config import Settings


def bigquery_client(settings: Settings) -> bigquery.Client:
    """A BigQuery client for the configured project (bqemulator's REST API when local)."""
    if settings.bigquery_emulator_host is None:
        return bigquery.Client(project=settings.project, location=settings.location)
    # BIGQUERY_EMULATOR_HOST alone is not honoured by google-cloud-bigquery 3.x: the endpoint
    # must carry the scheme and the credentials must be anonymous.
    return bigquery.Client(
        project=settings.project,
        location=settings.location,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=f"http://{settings.bigquery_emulator_host}"),
    )


def bigquery_write_client(settings: Settings) -> BigQueryWriteClient:
    """A Storage Write API client (bqemulator's gRPC port when local)."""
    if settings.bigquery_emulator_grpc_host is None:
        return BigQueryWriteClient()  # type: ignore[no-untyped-call]
    # client_options alone would try TLS against the emulator and retry for minutes.
    channel = grpc.insecure_channel(settings.bigquery_emulator_grpc_host)
    return BigQueryWriteClient(  # type: ignore[no-untyped-call]
        transport=BigQueryWriteGrpcTransport(channel=channel)
    )


def publisher_client(
    settings: Settings, *, batch_settings: pubsub_v1.types.BatchSettings | None = None
) -> pubsub_v1.PublisherClient:
    """A Pub/Sub publisher (the emulator when local)."""
    kwargs = {} if batch_settings is None else {"batch_settings": batch_settings}
    if settings.pubsub_emulator_host is None:
        return pubsub_v1.PublisherClient(**kwargs)
    channel = grpc.insecure_channel(settings.pubsub_emulator_host)
    return pubsub_v1.PublisherClient(transport=PublisherGrpcTransport(channel=channel), **kwargs)


def subscriber_client(settings: Settings) -> pubsub_v1.SubscriberClient:
    """A Pub/Sub subscriber, also used for subscription admin (the emulator when local)."""
    if settings.pubsub_emulator_host is None:
        return pubsub_v1.SubscriberClient()
    channel = grpc.insecure_channel(settings.pubsub_emulator_host)
    return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
