"""The streaming pipeline: Pub/Sub -> parse and validate -> BigQuery (events, dead_letters).

    ReadFromPubSub(subscription, with_attributes=True), messages left serialized (ReadMessages)
      -> ParseAndValidate            one row per message, events or dead_letters, keyed by shard
      -> WriteToBigQuery             batched across bundles per shard (state and timers), then
                                     Storage Write API, _default stream, both tables

One entry point for both places: :func:`run` parses the options (only here), then

* locally (``--runner=BundleBasedDirectRunner``): checks that the emulators answer and the
  resources exist (seconds, not the clients' minutes of retries), seeks the subscription back to
  recover what a killed run had acknowledged (:mod:`bqingest.pipeline.recovery`), reads the
  emulator's boot id (message ids are qualified with it: :mod:`bqingest.clients`), tunes the
  runner (short idle pulls, DoFn lookups cached: :mod:`bqingest.pipeline.local_runner`), runs
  the pipeline and waits for it;
* on Dataflow (``--runner=DataflowRunner``, also what the Flex Template launcher calls): submits
  the job and returns without waiting, as a Flex Template launcher must.

``python -m bqingest.pipeline.main --help`` lists the options; ``bqingest pipeline`` builds them
from the settings.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from bqingest import clients
from bqingest.clock import utc_now
from bqingest.pipeline import local_runner, metrics, preflight, recovery
from bqingest.pipeline.archive import PayloadArchive
from bqingest.pipeline.errors import PipelineError
from bqingest.pipeline.options import PipelineConfig, config_from
from bqingest.pipeline.sink import WriteToWarehouse
from bqingest.pipeline.transforms import ParseAndValidate, ReadMessages, SchemaSettings
from bqingest.pipeline.writer import StorageWriteApi
from bqingest.telemetry import metrics_url, serve

logger = logging.getLogger("bqingest.pipeline")


SHARDS_LOCAL: Final = 1
"""The local runner runs one bundle at a time: one key gives the largest batches."""
SHARDS_ON_DATAFLOW: Final = 4
"""Keys the sink batches under on Dataflow: how many batches can be written at once. At this
system's rates (tens to hundreds of events/s) a few keys already keep up; more keys mean smaller
batches and more append calls."""


def build(
    pipeline: beam.Pipeline, config: PipelineConfig, *, pubsub_boot: str | None = None
) -> None:
    """Add the ingestion steps to ``pipeline``.

    ``pubsub_boot``: the Pub/Sub emulator's boot id, which qualifies its message ids
    (:func:`bqingest.clients.pubsub_emulator_boot`); None on Pub/Sub itself.
    """
    messages = pipeline | "ReadFromPubSub" >> ReadMessages(subscription=config.subscription)
    rows = messages | "ParseAndValidate" >> ParseAndValidate(
        max_message_bytes=config.max_message_bytes,
        pubsub_boot=pubsub_boot,
        shards=SHARDS_LOCAL if config.is_local else SHARDS_ON_DATAFLOW,
        schemas=SchemaSettings(
            config.schemas_dir, config.unknown_types, config.schemas_refresh_seconds
        ),
    )
    archive = PayloadArchive(config.dead_letter_payloads) if config.dead_letter_payloads else None
    _ = rows | "WriteToBigQuery" >> WriteToWarehouse(
        events_table=config.events_table,
        dead_letter_table=config.dead_letter_table,
        connect=StorageWriteApi(endpoints=config.endpoints),
        archive=archive,
        overlap_writes=config.is_local,
    )


def prepare_local_run(config: PipelineConfig) -> recovery.RecoveryPlan:
    """Check endpoints and resources, then seek the subscription back (local runner only)."""
    if config.pubsub_emulator_host is not None:
        # ReadFromPubSub builds its own client; this is how it finds the emulator, and the
        # channel it then opens must take messages as large as Pub/Sub does.
        os.environ["PUBSUB_EMULATOR_HOST"] = config.pubsub_emulator_host
        clients.lift_emulator_message_limit()
    preflight.check_endpoints(config)
    subscriber = clients.subscriber_client(config.endpoints)
    bq = clients.bigquery_client(config.endpoints)
    try:
        preflight.check_resources(config, subscriber=subscriber, bq=bq)
        return recovery.recover(
            subscriber=subscriber,
            bq=bq,
            subscription=config.subscription,
            events_table=config.events_table,
            dead_letter_table=config.dead_letter_table,
            margin=timedelta(seconds=config.recovery_margin_seconds),
            now=utc_now(),
        )
    finally:
        subscriber.close()
        bq.close()


def run(argv: Sequence[str] | None = None, *, wait: bool | None = None) -> Any:
    """Parse options, prepare (locally), build and run the pipeline; return its result.

    ``wait`` defaults to True on the local runner and False on Dataflow.
    """
    options = PipelineOptions(list(argv) if argv is not None else sys.argv[1:])
    config = config_from(options)
    options.view_as(StandardOptions).streaming = True
    if config.metrics_port:  # the local runner only (config_from refuses it elsewhere)
        serve(
            metrics.REGISTRY,
            host=config.metrics_host,
            port=config.metrics_port,
            variable="BQINGEST_PIPELINE_METRICS_PORT (--metrics_port)",
        )
        logger.info("metrics at %s", metrics_url(config.metrics_host, config.metrics_port))
    boot = None
    if config.is_local:
        plan = prepare_local_run(config)
        logger.info("recovery: %s", plan.describe())
        boot = clients.pubsub_emulator_boot(config.endpoints)
        if boot is not None:
            logger.info("Pub/Sub emulator boot %s: message ids recorded as %s-<id>", boot, boot)
        local_runner.install()
    pipeline = beam.Pipeline(options=options)
    build(pipeline, config, pubsub_boot=boot)
    result = pipeline.run()
    logger.info(
        "pipeline running on %s: %s -> %s, %s",
        config.runner,
        config.subscription,
        config.events_table,
        config.dead_letter_table,
    )
    if config.is_local if wait is None else wait:
        result.wait_until_finish()
    return result


def configure_logging() -> None:
    """Warnings from Beam and the clients, information from bqingest, with timestamps."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("bqingest").setLevel(logging.INFO)


def main() -> None:
    """``python -m bqingest.pipeline.main [options]``: one ``error:`` line for expected failures."""
    configure_logging()
    try:
        run()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
