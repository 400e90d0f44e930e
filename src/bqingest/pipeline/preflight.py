"""Checks before a local pipeline starts: fail in seconds with a clear message, not minutes.

Against a missing emulator, ReadFromPubSub and the Google clients retry for about 3.5 minutes
before they give up. So before building the pipeline we check that something listens at each
configured emulator endpoint, then make sure the subscription and both tables exist (with the
clients' retries turned off), and say what to run when something is missing.
"""

from __future__ import annotations

from google.api_core import exceptions
from google.api_core.retry import Retry
from google.cloud import bigquery, pubsub_v1

from bqingest.clients import silent_emulators
from bqingest.pipeline.errors import EndpointUnreachable, ResourceMissing
from bqingest.pipeline.options import PipelineConfig

START_STACK_HINT = (
    "start the local stack with `bqingest up` (or `make run`) and pass its endpoints "
    "(`bqingest pipeline` does that from BQINGEST_* settings)"
)


def check_endpoints(config: PipelineConfig, *, timeout: float = 1.0) -> None:
    """Raise EndpointUnreachable naming every configured emulator endpoint nobody listens at."""
    problems = silent_emulators(config.endpoints, timeout=timeout)
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
