"""Checks before a local pipeline starts: fail in seconds with a clear message, not minutes.

Against a missing emulator, ReadFromPubSub and the Google clients retry for about 3.5 minutes
before they give up. So before building the pipeline we probe each configured emulator endpoint
with a short timeout, then make sure the subscription and both tables exist (with the clients'
retries turned off), and say what to run when something is missing.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable

from google.api_core import exceptions
from google.api_core.retry import Retry
from google.cloud import bigquery, pubsub_v1

from bqingest.local import bigquery_emulator, pubsub_emulator
from bqingest.pipeline.errors import EndpointUnreachable, ResourceMissing
from bqingest.pipeline.options import PipelineConfig

START_STACK_HINT = (
    "start the local stack with `bqingest up` (or `make run`) and pass its endpoints "
    "(`bqingest pipeline` does that from BQINGEST_* settings)"
)


def _answers(probe: Callable[[], bool]) -> bool:
    try:
        return probe()
    except (OSError, http.client.HTTPException):
        return False


def check_endpoints(config: PipelineConfig) -> None:
    """Raise EndpointUnreachable naming every configured emulator endpoint that does not answer."""
    problems: list[str] = []
    pubsub_host = config.pubsub_emulator_host
    if pubsub_host is not None and not _answers(lambda: pubsub_emulator.is_ready(pubsub_host)):
        problems.append(f"the Pub/Sub emulator does not answer at {pubsub_host}")
    rest, grpc_host = config.bigquery_emulator_host, config.bigquery_emulator_grpc_host
    if (
        rest is not None
        and grpc_host is not None
        and not _answers(lambda: bigquery_emulator.is_ready(rest, grpc_host, config.project))
    ):
        problems.append(
            f"the BigQuery emulator does not answer at {rest} (REST) and {grpc_host} (gRPC)"
        )
    if problems:
        raise EndpointUnreachable("; ".join(problems) + f": {START_STACK_HINT}")


def check_resources(
    config: PipelineConfig,
    *,
    subscriber: pubsub_v1.SubscriberClient,
    bq: bigquery.Client,
    timeout: float = 10.0,
) -> None:
    """Raise ResourceMissing when the subscription or a table does not exist."""
    try:
        subscriber.get_subscription(subscription=config.subscription, retry=None, timeout=timeout)
    except exceptions.NotFound:
        raise ResourceMissing(
            f"subscription {config.subscription} does not exist: run `bqingest bootstrap` "
            "(locally) or apply the Terraform configuration"
        ) from None
    for table in (config.events_table, config.dead_letter_table):
        try:
            bq.get_table(table, retry=Retry(timeout=timeout), timeout=timeout)
        except exceptions.NotFound:
            raise ResourceMissing(
                f"table {table} does not exist: run `bqingest bootstrap` (locally) or apply the "
                "Terraform configuration"
            ) from None
