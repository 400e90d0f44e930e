"""The pipeline's options: a contract shared with Terraform's Dataflow job and the Flex Template.

``--subscription`` (``projects/P/subscriptions/S``), ``--events_table`` and
``--dead_letter_table`` (``PROJECT.DATASET.TABLE``), ``--max_message_bytes``; locally also
``--pubsub_emulator_host``, ``--bigquery_emulator_host``, ``--bigquery_emulator_grpc_host`` and
``--recovery_margin_seconds``, ``--metrics_host`` and ``--metrics_port`` (Prometheus
metrics, local runner only). The standard Beam options (``--runner --project --region
--temp_location --streaming``...) are Beam's own. ``dataflow/metadata.json`` describes the same
parameters with the same patterns (:data:`bqingest.formats.PIPELINE_PARAMETER_PATTERNS`, shared with
the settings); a unit test keeps them equal.

Options are parsed only in :func:`bqingest.pipeline.main.run`; everything below it receives a
:class:`PipelineConfig` of plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from bqingest import formats
from bqingest.config import Endpoints
from bqingest.contract.events import DEFAULT_MAX_MESSAGE_BYTES
from bqingest.pipeline.errors import OptionsError

LOCAL_RUNNER: Final = "BundleBasedDirectRunner"
DATAFLOW_RUNNER: Final = "DataflowRunner"
SUPPORTED_RUNNERS: Final = (LOCAL_RUNNER, DATAFLOW_RUNNER)
DEFAULT_RECOVERY_MARGIN_SECONDS: Final = 120.0
PATTERNS: Final = formats.PIPELINE_PARAMETER_PATTERNS
_HOST_PORT: Final = re.compile(formats.HOST_PORT)


class IngestOptions(PipelineOptions):
    """bqingest's own pipeline options (see the module docstring)."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument(
            "--subscription",
            help="Pub/Sub subscription to read, projects/PROJECT/subscriptions/NAME.",
        )
        parser.add_argument("--events_table", help="Table of valid events, PROJECT.DATASET.TABLE.")
        parser.add_argument(
            "--dead_letter_table", help="Table of rejected messages, PROJECT.DATASET.TABLE."
        )
        parser.add_argument(
            "--max_message_bytes",
            type=int,
            default=DEFAULT_MAX_MESSAGE_BYTES,
            help="Size limit of one message (body plus attributes); larger ones are "
            "dead-lettered as too_large.",
        )
        parser.add_argument(
            "--dead_letter_payloads",
            default=None,
            help="Where the whole body of a dead letter too long for its row is stored: a "
            "directory, or gs://BUCKET/PATH on Dataflow. Unset: only the row's prefix, size "
            "and SHA-256 are kept.",
        )
        parser.add_argument(
            "--unknown_types",
            default="store",
            help="An event whose type has no schema in the registry: store (untyped, the "
            "default) or reject (dead-lettered as unknown_type).",
        )
        parser.add_argument(
            "--schemas_dir",
            default=None,
            help="Local runner only: the schema registry's folder, re-read when it changes "
            "(unset: the schemas shipped in the package; on Dataflow the image's).",
        )
        parser.add_argument(
            "--schemas_refresh_seconds",
            type=float,
            default=10.0,
            help="Local runner only: how often a worker looks for changed schema files (0: never).",
        )
        parser.add_argument(
            "--pubsub_emulator_host",
            default=None,
            help="Local only: host:port of the Pub/Sub emulator.",
        )
        parser.add_argument(
            "--bigquery_emulator_host",
            default=None,
            help="Local only: host:port of the BigQuery emulator's REST API.",
        )
        parser.add_argument(
            "--bigquery_emulator_grpc_host",
            default=None,
            help="Local only: host:port of the BigQuery emulator's Storage API (gRPC).",
        )
        parser.add_argument(
            "--recovery_margin_seconds",
            type=float,
            default=DEFAULT_RECOVERY_MARGIN_SECONDS,
            help="Local runner only: on start, seek the subscription back to the last publish "
            "time written minus this margin, to re-read what a killed run had acknowledged.",
        )
        parser.add_argument(
            "--metrics_host",
            default="127.0.0.1",
            help="Local runner only: address the Prometheus metrics endpoint binds to.",
        )
        parser.add_argument(
            "--metrics_port",
            type=int,
            default=0,
            help="Local runner only: serve Prometheus metrics at http://HOST:PORT/metrics "
            "(0: off). Dataflow exports the Beam counters to Cloud Monitoring instead.",
        )


@dataclass(frozen=True)
class PipelineConfig:
    """Validated plain values from the options; what the pipeline's code receives."""

    runner: str
    subscription: str
    events_table: str
    dead_letter_table: str
    max_message_bytes: int
    pubsub_emulator_host: str | None
    bigquery_emulator_host: str | None
    bigquery_emulator_grpc_host: str | None
    recovery_margin_seconds: float
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    dead_letter_payloads: str | None = None
    unknown_types: str = "store"
    schemas_dir: str | None = None
    schemas_refresh_seconds: float = 10.0

    @property
    def is_local(self) -> bool:
        """Runs on the local runner (acks at pull: needs recovery on start)."""
        return self.runner == LOCAL_RUNNER

    @property
    def uses_emulators(self) -> bool:
        return any(
            host is not None
            for host in (
                self.pubsub_emulator_host,
                self.bigquery_emulator_host,
                self.bigquery_emulator_grpc_host,
            )
        )

    @property
    def project(self) -> str:
        """The project of the events table (where the warehouse lives)."""
        return self.events_table.split(".", 1)[0]

    @property
    def endpoints(self) -> Endpoints:
        """Where the clients connect: exactly what the options name, nothing read from elsewhere
        (the launcher and Dataflow's workers have no ``BQINGEST_*`` environment)."""
        return Endpoints(
            project=self.project,
            pubsub_emulator=self.pubsub_emulator_host,
            bigquery_emulator=self.bigquery_emulator_host,
            bigquery_emulator_grpc=self.bigquery_emulator_grpc_host,
        )


def _require(name: str, value: str | None) -> str:
    if not value:
        raise OptionsError(f"--{name} is required")
    if not re.fullmatch(PATTERNS[name], value):
        expected = (
            "projects/PROJECT/subscriptions/NAME"
            if name == "subscription"
            else "PROJECT.DATASET.TABLE"
        )
        raise OptionsError(f"--{name}={value!r} is not of the form {expected}")
    return value


def runner_name(options: PipelineOptions) -> str:
    """The runner the options name, refusing the ones that do not work here (module docstring)."""
    runner = options.view_as(StandardOptions).runner
    name = runner if isinstance(runner, str) else type(runner).__name__ if runner else None
    if name not in SUPPORTED_RUNNERS:
        raise OptionsError(
            f"--runner={name or '(not set)'} is not supported: use --runner={LOCAL_RUNNER} "
            f"locally (the default DirectRunner tries to download Prism, and FnApiRunner reads "
            f"nothing from Pub/Sub in streaming mode) or --runner={DATAFLOW_RUNNER} on GCP"
        )
    return str(name)


def config_from(options: PipelineOptions) -> PipelineConfig:
    """Validate bqingest's options; raise OptionsError with the first problem found."""
    runner = runner_name(options)
    ingest = options.view_as(IngestOptions)
    config = PipelineConfig(
        runner=runner,
        subscription=_require("subscription", ingest.subscription),
        events_table=_require("events_table", ingest.events_table),
        dead_letter_table=_require("dead_letter_table", ingest.dead_letter_table),
        max_message_bytes=int(ingest.max_message_bytes),
        pubsub_emulator_host=ingest.pubsub_emulator_host or None,
        bigquery_emulator_host=ingest.bigquery_emulator_host or None,
        bigquery_emulator_grpc_host=ingest.bigquery_emulator_grpc_host or None,
        recovery_margin_seconds=float(ingest.recovery_margin_seconds),
        metrics_host=str(ingest.metrics_host),
        metrics_port=int(ingest.metrics_port),
        dead_letter_payloads=ingest.dead_letter_payloads or None,
        unknown_types=str(ingest.unknown_types),
        schemas_dir=ingest.schemas_dir or None,
        schemas_refresh_seconds=float(ingest.schemas_refresh_seconds),
    )
    if not re.fullmatch(PATTERNS["unknown_types"], config.unknown_types):
        raise OptionsError(f"--unknown_types={config.unknown_types!r} must be store or reject")
    if config.schemas_dir is not None and not config.is_local:
        raise OptionsError(
            f"--schemas_dir is for --runner={LOCAL_RUNNER} only: on Dataflow the registry is "
            "the one in the pipeline's image (docs/schemas.md: rolling out a schema)"
        )
    if not formats.MIN_MESSAGE_BYTES <= config.max_message_bytes <= formats.MAX_MESSAGE_BYTES:
        raise OptionsError(
            f"--max_message_bytes={config.max_message_bytes} must be between "
            f"{formats.MIN_MESSAGE_BYTES} and {formats.MAX_MESSAGE_BYTES} "
            "(Pub/Sub's own limit is 10 MB)"
        )
    if not 0 <= config.metrics_port <= 65535:
        raise OptionsError(f"--metrics_port={config.metrics_port} must be a TCP port, or 0 (off)")
    if config.metrics_port and not config.is_local:
        raise OptionsError(
            f"--metrics_port is for --runner={LOCAL_RUNNER} only: on Dataflow the pipeline's "
            "counters go to Cloud Monitoring, and no worker should open a port"
        )
    if config.recovery_margin_seconds < 0:
        raise OptionsError("--recovery_margin_seconds must not be negative")
    for name in ("pubsub_emulator_host", "bigquery_emulator_host", "bigquery_emulator_grpc_host"):
        value = getattr(config, name)
        if value is not None and not _HOST_PORT.fullmatch(value):
            raise OptionsError(f"--{name}={value!r} must be host:port (no scheme)")
    if config.uses_emulators and not config.is_local:
        raise OptionsError(
            f"emulator hosts are for --runner={LOCAL_RUNNER} only: Dataflow workers cannot "
            "reach them"
        )
    if config.is_local and (
        (config.bigquery_emulator_host is None) != (config.bigquery_emulator_grpc_host is None)
    ):
        raise OptionsError(
            "--bigquery_emulator_host and --bigquery_emulator_grpc_host go together: the "
            "pipeline reads through REST and writes through gRPC"
        )
    return config
