"""Google Cloud clients for some :class:`~bqingest.config.Endpoints`: the emulators, or GCP.

This is the only place that knows the difference. Locally the clients get anonymous credentials
and plain-text endpoints; in the cloud they use Application Default Credentials (the service
account of Cloud Run or Dataflow). Everything above this module is the same code in both places.
It also answers the one question about an endpoint that code above asks before a client would
retry for minutes: does anything listen there at all.

One more difference is not an endpoint's: **message ids**. Pub/Sub's are unique, so the system
keys on them (the ledger, dead letters, scheduler ticks' event ids). The emulator numbers
messages 1, 2, 3... again after every start, while the warehouse and the ledger persist across
starts. Locally a message id is therefore qualified with the emulator's *boot id*
(:func:`pubsub_emulator_boot`, :func:`recorded_message_id`), the same way by the source and by the
pipeline (docs/adr/0008-local-restarts-and-batched-writes.md).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Iterable
from types import ModuleType
from typing import Any, Final

import google.cloud.pubsub_v1 as pubsub_v1
import grpc
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient
from google.cloud.bigquery_storage_v1.services.big_query_write.transports import (
    BigQueryWriteGrpcTransport,
)
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from bqingest.config import Endpoints

UNLIMITED_MESSAGES: Final = (
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
)
"""What Google's client libraries set on their own channels to GCP. A plain-text channel to an
emulator gets gRPC's defaults instead, which refuse to receive a message over 4 MiB: Pub/Sub
takes messages of 10 MB, so every channel made here lifts the limit too."""


def _emulator_channel(host_port: str) -> grpc.Channel:
    return grpc.insecure_channel(host_port, options=list(UNLIMITED_MESSAGES))


def bigquery_client(endpoints: Endpoints) -> bigquery.Client:
    """A BigQuery client for the project (bqemulator's REST API when one is named)."""
    if endpoints.bigquery_emulator is None:
        return bigquery.Client(project=endpoints.project, location=endpoints.location)
    # BIGQUERY_EMULATOR_HOST alone is not honoured by google-cloud-bigquery 3.x: the endpoint
    # must carry the scheme and the credentials must be anonymous.
    return bigquery.Client(
        project=endpoints.project,
        location=endpoints.location,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=f"http://{endpoints.bigquery_emulator}"),
    )


def bigquery_write_client(endpoints: Endpoints) -> BigQueryWriteClient:
    """A Storage Write API client (bqemulator's gRPC port when one is named)."""
    if endpoints.bigquery_emulator_grpc is None:
        return BigQueryWriteClient()  # type: ignore[no-untyped-call]
    # client_options alone would try TLS against the emulator and retry for minutes.
    channel = _emulator_channel(endpoints.bigquery_emulator_grpc)
    return BigQueryWriteClient(  # type: ignore[no-untyped-call]
        transport=BigQueryWriteGrpcTransport(channel=channel)
    )


def publisher_client(
    endpoints: Endpoints,
    *,
    batch_settings: pubsub_v1.types.BatchSettings | None = None,
    publisher_options: pubsub_v1.types.PublisherOptions | None = None,
) -> pubsub_v1.PublisherClient:
    """A Pub/Sub publisher (the emulator when one is named)."""
    kwargs: dict[str, object] = {}
    if batch_settings is not None:
        kwargs["batch_settings"] = batch_settings
    if publisher_options is not None:
        kwargs["publisher_options"] = publisher_options
    if endpoints.pubsub_emulator is None:
        return pubsub_v1.PublisherClient(**kwargs)
    channel = _emulator_channel(endpoints.pubsub_emulator)
    return pubsub_v1.PublisherClient(transport=PublisherGrpcTransport(channel=channel), **kwargs)


def subscriber_client(endpoints: Endpoints) -> pubsub_v1.SubscriberClient:
    """A Pub/Sub subscriber, also used for subscription admin (the emulator when one is named)."""
    if endpoints.pubsub_emulator is None:
        return pubsub_v1.SubscriberClient()
    channel = _emulator_channel(endpoints.pubsub_emulator)
    return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))


def split_host_port(host_port: str) -> tuple[str, int]:
    """``"127.0.0.1:8085"`` -> ``("127.0.0.1", 8085)``; ``"[::1]:8085"`` -> ``("::1", 8085)``."""
    host, _, port = host_port.rpartition(":")
    return host.strip("[]"), int(port)


def port_is_open(host_port: str, *, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection(split_host_port(host_port), timeout=timeout):
            return True
    except OSError:
        return False


EMULATORS: Final = {
    "pubsub_emulator": "the Pub/Sub emulator",
    "bigquery_emulator": "the BigQuery emulator (REST)",
    "bigquery_emulator_grpc": "the BigQuery emulator (Storage API, gRPC)",
}
"""The emulator fields of :class:`Endpoints`, and how messages name them."""


def silent_emulators(
    endpoints: Endpoints, *, only: Iterable[str] = EMULATORS, timeout: float = 1.0
) -> list[str]:
    """``"<emulator> does not answer at <host:port>"`` for each emulator ``endpoints`` names
    (of the fields in ``only``) at which nothing listens. Against a missing emulator the Google
    clients retry for minutes before they give up; this answers in about ``timeout``."""
    problems = []
    for field in only:
        host = getattr(endpoints, field)
        if host is not None and not port_is_open(host, timeout=timeout):
            problems.append(f"{EMULATORS[field]} does not answer at {host}")
    return problems


class _UnlimitedGrpc(ModuleType):
    """``grpc`` as the Pub/Sub library sees it, with plain-text channels that lift the limit."""

    def __init__(self) -> None:
        super().__init__("grpc")

    def __getattr__(self, name: str) -> Any:
        return getattr(grpc, name)

    @staticmethod
    def insecure_channel(target: str, options: Any = None, **kwargs: Any) -> grpc.Channel:
        merged = [*UNLIMITED_MESSAGES, *(options or ())]
        return grpc.insecure_channel(target, options=merged, **kwargs)


def lift_emulator_message_limit() -> None:
    """Let Pub/Sub subscribers that the library builds itself for ``PUBSUB_EMULATOR_HOST`` receive
    messages over 4 MiB.

    Beam's local runner makes its own ``SubscriberClient()``, which, with that variable set, opens
    a plain-text channel with gRPC's default 4 MiB receive limit: a larger message fails every
    pull (RESOURCE_EXHAUSTED), is redelivered forever and reaches neither table. This swaps the
    ``grpc`` the subscriber module uses for one whose plain-text channels lift the limit, as the
    library's own channels to GCP do. Only the local runner calls it; idempotent.
    """
    from google.pubsub_v1.services.subscriber import client as subscriber_module

    if not isinstance(getattr(subscriber_module, "grpc", None), _UnlimitedGrpc):
        setattr(subscriber_module, "grpc", _UnlimitedGrpc())  # noqa: B010 - not its public API


EMULATOR_BOOT_TOPIC: Final = "bqingest-emulator-boot"
"""A topic that exists only to carry the emulator's boot id in its ``boot`` label."""


def pubsub_emulator_boot(
    endpoints: Endpoints, *, publisher: pubsub_v1.PublisherClient | None = None
) -> str | None:
    """The boot id of the Pub/Sub emulator ``endpoints`` name; None for Pub/Sub itself.

    The first caller after the emulator starts creates :data:`EMULATOR_BOOT_TOPIC` with a new
    random id in its ``boot`` label; every later caller (and a racing one, whose create is
    refused) reads that label. The topic lives in the emulator's memory, so the id lives exactly
    as long as the emulator's message numbering: a restarted emulator gets a new one.
    """
    if endpoints.pubsub_emulator is None:
        return None
    client = publisher or publisher_client(endpoints)
    name = f"projects/{endpoints.project}/topics/{EMULATOR_BOOT_TOPIC}"
    try:
        with contextlib.suppress(exceptions.AlreadyExists):  # another process was first
            client.create_topic(
                request={"name": name, "labels": {"boot": secrets.token_hex(6)}}, timeout=30
            )
        boot = client.get_topic(topic=name, timeout=30).labels.get("boot")
    finally:
        if publisher is None:
            client.transport.close()
    if not boot:
        raise RuntimeError(
            f"the Pub/Sub emulator's {name} has no 'boot' label (something else created it): "
            "restart the emulator"
        )
    return str(boot)


def recorded_message_id(message_id: str, boot: str | None) -> str:
    """A Pub/Sub message id as bqingest records it: ``<boot>-<id>`` under the emulator."""
    return message_id if boot is None else f"{boot}-{message_id}"
