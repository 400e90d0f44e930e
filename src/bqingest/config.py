"""Settings: one validated object per process, from ``BQINGEST_*`` variables or ``.env``.

Defaults describe the local stack (``environment=local``): the Pub/Sub emulator on 127.0.0.1:8085
and bqemulator on 127.0.0.1:9050 (REST) and 9060 (gRPC). Any other environment (``dev``,
``staging``, ``prod``) talks to GCP, so emulator endpoints there are refused at start-up rather than
silently sending production traffic to a laptop port. Resource names match Terraform's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bqingest.contract.events import DEFAULT_MAX_MESSAGE_BYTES

Environment = Literal["local", "dev", "staging", "prod"]

LOCAL_PUBSUB_EMULATOR_HOST: Final = "127.0.0.1:8085"
LOCAL_BIGQUERY_EMULATOR_HOST: Final = "127.0.0.1:9050"
LOCAL_BIGQUERY_EMULATOR_GRPC_HOST: Final = "127.0.0.1:9060"
# Where `bqingest up` serves the source's and the pipeline's Prometheus metrics unless told
# otherwise (monitoring/prometheus.yml scrapes these, and the API's BQINGEST_API_PORT).
LOCAL_SOURCE_METRICS_PORT: Final = 9464
LOCAL_PIPELINE_METRICS_PORT: Final = 9465

# https://cloud.google.com/resource-manager/docs/creating-managing-projects (project ids),
# https://cloud.google.com/pubsub/docs/create-topic (resource names), BigQuery dataset/table names.
_PROJECT_ID: Final = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_PUBSUB_NAME: Final = re.compile(r"(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
_BIGQUERY_NAME: Final = re.compile(r"[A-Za-z0-9_]{1,1024}")
_HOST_PORT: Final = re.compile(r"[A-Za-z0-9.\-\[\]:]+:\d{1,5}")
_API_KEY_DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}")


class UnsafeSettings(ValueError):
    """Valid settings that a part of the system refuses to run with outside local mode."""


class Settings(BaseSettings):
    """Every knob of bqingest. Environment variable = ``BQINGEST_`` + the upper-cased name."""

    model_config = SettingsConfigDict(
        env_prefix="BQINGEST_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = Field("local", description="local uses the emulators.")
    project: str = Field("bqingest-local", description="GCP project id.")
    location: str = Field("US", description="BigQuery dataset location.")
    dataset: str = Field("bqingest", description="BigQuery dataset.")
    events_table: str = Field("events", description="Table of valid events.")
    dead_letter_table: str = Field("dead_letters", description="Table of rejected messages.")
    dedup_view: str = Field("events_dedup", description="View: one row per event id.")
    topic: str = Field("events", description="Pub/Sub topic the source publishes to.")
    subscription: str = Field("events-pipeline", description="The pipeline's subscription.")
    dead_letter_topic: str = Field(
        "events-dead-letter", description="Where Pub/Sub forwards undeliverable messages."
    )
    dead_letter_subscription: str = Field(
        "events-dead-letter-sub", description="Subscription to inspect the dead-letter topic."
    )
    ack_deadline_seconds: int = Field(60, ge=10, le=600)
    max_delivery_attempts: int = Field(5, ge=5, le=100)
    retry_min_backoff_seconds: int = Field(10, ge=0, le=600)
    retry_max_backoff_seconds: int = Field(600, ge=0, le=600)
    message_retention_seconds: int = Field(
        7 * 24 * 3600, ge=600, le=31 * 24 * 3600, description="Subscription message retention."
    )
    retain_acked_messages: bool = Field(
        True, description="Keep acknowledged messages so a restarted pipeline can seek back."
    )

    pubsub_emulator_host: str | None = Field(None, description="host:port; local only.")
    bigquery_emulator_host: str | None = Field(None, description="REST host:port; local only.")
    bigquery_emulator_grpc_host: str | None = Field(
        None, description="Storage API gRPC host:port; local only."
    )
    bigquery_emulator_time_travel: bool = Field(
        False,
        description="Local only: let bqemulator copy a table after every write so that "
        "FOR SYSTEM_TIME AS OF works. Off: each write would copy the whole table, which slows "
        "ingestion as tables grow, and nothing in bqingest reads past versions.",
    )
    pubsub_emulator_jar: Path | None = Field(
        None, description="Path to cloud-pubsub-emulator-*-all.jar; found automatically if unset."
    )
    data_dir: Path = Field(Path(".bqingest"), description="Local state: warehouse file, logs.")
    startup_timeout_seconds: float = Field(60.0, gt=0, le=600)

    api_host: str = Field("127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535)

    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=1024, le=10 * 1024 * 1024)

    # --- Ingestion (issue 3): the scheduled source and the local pipeline ---------------------
    source_every_seconds: float = Field(
        180.0, gt=0, le=24 * 3600, description="Seconds between two batches of the source."
    )
    source_batch_size: int = Field(
        50, ge=1, le=100_000, description="Events the source publishes per batch."
    )
    source_seed: int | None = Field(
        None, description="Seed of the source's generator (same seed, same events); unset: random."
    )
    source_malformed_fraction: float = Field(
        0.02, ge=0, le=1, description="Share of the source's messages malformed on purpose."
    )
    source_duplicate_fraction: float = Field(
        0.02, ge=0, le=1, description="Share of the source's messages that repeat an earlier event."
    )
    recovery_margin_seconds: float = Field(
        120.0,
        ge=0,
        le=24 * 3600,
        description="Local runner: on start, replay the subscription from the last publish time "
        "written minus this margin (see docs/adr/0002-local-runner-recovery.md).",
    )

    # --- Read API (src/bqingest/api) -------------------------------------------------------
    # Auth: keys are stored as digests only (`bqingest api hash-key` makes one). Outside local
    # the API refuses to start with POST enabled and no key, or closed reads and no key
    # (check_api_is_safe): turning HTTP ingestion off (BQINGEST_API_POST_ENABLED=false) or opening
    # reads (BQINGEST_PUBLIC_READ=true, relying on Cloud Run's IAM invoker) is an explicit choice.
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="API key digests, comma-separated 'sha256:<64 hex>' (bqingest api hash-key). "
        "Sent by clients in the X-API-Key header.",
    )
    public_read: bool | None = Field(
        None, description="Reads without an API key. Default: true locally, false elsewhere."
    )
    api_post_enabled: bool = Field(True, description="Serve POST /api/v1/events (publishing).")
    api_post_max_events: int = Field(1000, ge=1, le=1000, description="Events per POST.")
    api_post_max_bytes: int = Field(
        1024 * 1024, ge=1024, le=10 * 1024 * 1024, description="Body size limit of one POST."
    )
    api_publish_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="Deadline for Pub/Sub to accept a POST's events."
    )
    api_query_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Deadline of each warehouse call made for a request."
    )
    api_maximum_bytes_billed: int = Field(
        10 * 1024**3,
        ge=10 * 1024**2,
        description="BigQuery refuses (instead of billing) a query that would scan more bytes.",
    )
    api_threads: int = Field(
        8, ge=1, le=64, description="Threads running warehouse calls (the client is blocking)."
    )
    api_queue_size: int = Field(
        64,
        ge=0,
        le=10_000,
        description="Warehouse calls that may wait for a thread; beyond it requests get 503.",
    )
    api_cache_size: int = Field(
        10_000, ge=0, le=1_000_000, description="Events kept in the by-id cache (0: off)."
    )
    api_cache_ttl_seconds: float = Field(
        300.0, ge=0, le=86_400, description="How long a cached event is served from memory."
    )
    api_negative_cache_ttl_seconds: float = Field(
        2.0, ge=0, le=300, description="How long an id found absent is answered 404 from memory."
    )
    api_http_max_age_seconds: int = Field(
        300, ge=0, le=31_536_000, description="Cache-Control max-age of by-id responses."
    )
    api_export_max_rows: int = Field(
        100_000, ge=1, le=10_000_000, description="Most rows one NDJSON export may stream."
    )
    api_count_max_groups: int = Field(
        10_000, ge=1, le=1_000_000, description="Most groups one count request may return."
    )
    api_readiness_timeout_seconds: float = Field(
        3.0, gt=0, le=60, description="Deadline for the warehouse and Pub/Sub to answer /readyz."
    )
    api_access_log: bool | None = Field(
        None,
        description="Log one JSON line per request. Default: true locally, false elsewhere "
        "(Cloud Run already logs every request, with its trace).",
    )
    api_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the API's JSON logs."
    )

    # --- Operability (issue 7): local metrics, `bqingest status`, `bqingest reconcile` -------
    # Unset metrics ports: off when the source or the pipeline runs alone, the LOCAL_*_METRICS_PORT
    # defaults under `bqingest up` (which passes the port to its children); 0: off everywhere.
    metrics_host: str = Field(
        "127.0.0.1", description="Address the source's and the pipeline's /metrics bind to."
    )
    source_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the source's Prometheus /metrics. Unset: off when run alone, "
        f"{LOCAL_SOURCE_METRICS_PORT} under `bqingest up`; 0: off.",
    )
    pipeline_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the pipeline's Prometheus /metrics (local runner only). Unset: off "
        f"when run alone, {LOCAL_PIPELINE_METRICS_PORT} under `bqingest up`; 0: off.",
    )
    reconcile_grace_seconds: float = Field(
        300.0,
        ge=0,
        le=7 * 24 * 3600,
        description="bqingest reconcile: messages published this recently may still be in "
        "flight, so the window ends this long before now at the latest.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for digest in value:
            if not _API_KEY_DIGEST.fullmatch(digest):
                raise ValueError(
                    "each key must be stored as 'sha256:<64 lowercase hex>', never in clear: "
                    "make one with `bqingest api hash-key`"
                )
        return value

    @model_validator(mode="after")
    def _apply_api_environment(self) -> Settings:
        for name in ("public_read", "api_access_log"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, self.is_local)
        return self

    def check_api_is_safe(self) -> None:
        """Refuse to serve the API with a configuration nobody should run in the cloud.

        Checked when the API starts rather than for every process: the pipeline shares these
        settings and needs no API key.
        """
        if self.is_local or self.api_keys:
            return
        if self.api_post_enabled:
            raise UnsafeSettings(
                f"environment={self.environment} with POST enabled needs BQINGEST_API_KEYS; "
                "or set BQINGEST_API_POST_ENABLED=false to turn HTTP ingestion off"
            )
        if not self.public_read:
            raise UnsafeSettings(
                f"environment={self.environment} with BQINGEST_PUBLIC_READ=false needs "
                "BQINGEST_API_KEYS, or nothing could read; or set BQINGEST_PUBLIC_READ=true "
                "to rely on Cloud Run's IAM invoker check alone"
            )

    @field_validator("project")
    @classmethod
    def _check_project(cls, value: str) -> str:
        if not _PROJECT_ID.fullmatch(value):
            raise ValueError("must be a GCP project id: 6-30 lowercase letters, digits, hyphens")
        return value

    @field_validator("topic", "subscription", "dead_letter_topic", "dead_letter_subscription")
    @classmethod
    def _check_pubsub_name(cls, value: str) -> str:
        if not _PUBSUB_NAME.fullmatch(value):
            raise ValueError(
                "must be 3-255 characters, start with a letter, not start with 'goog', "
                "and use only letters, digits and -_.~+%"
            )
        return value

    @field_validator("dataset", "events_table", "dead_letter_table", "dedup_view")
    @classmethod
    def _check_bigquery_name(cls, value: str) -> str:
        if not _BIGQUERY_NAME.fullmatch(value):
            raise ValueError("must be letters, digits and underscores")
        return value

    @field_validator(
        "pubsub_emulator_host", "bigquery_emulator_host", "bigquery_emulator_grpc_host"
    )
    @classmethod
    def _check_host_port(cls, value: str | None) -> str | None:
        if value is not None and not _HOST_PORT.fullmatch(value):
            raise ValueError("must be host:port, e.g. 127.0.0.1:8085 (no scheme)")
        return value

    @model_validator(mode="after")
    def _apply_environment(self) -> Settings:
        emulators = {
            "pubsub_emulator_host": LOCAL_PUBSUB_EMULATOR_HOST,
            "bigquery_emulator_host": LOCAL_BIGQUERY_EMULATOR_HOST,
            "bigquery_emulator_grpc_host": LOCAL_BIGQUERY_EMULATOR_GRPC_HOST,
        }
        if self.environment == "local":
            for name, default in emulators.items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
        else:
            set_here = [name for name in emulators if getattr(self, name) is not None]
            if set_here:
                raise ValueError(
                    f"environment={self.environment} talks to GCP; emulator endpoints "
                    f"({', '.join('BQINGEST_' + n.upper() for n in set_here)}) are for "
                    "environment=local only"
                )
            if self.project == "bqingest-local":
                raise ValueError(
                    f"environment={self.environment} needs BQINGEST_PROJECT: the GCP project id"
                )
        if self.retry_min_backoff_seconds > self.retry_max_backoff_seconds:
            raise ValueError("retry_min_backoff_seconds must not exceed retry_max_backoff_seconds")
        if self.source_malformed_fraction + self.source_duplicate_fraction > 1:
            raise ValueError(
                "source_malformed_fraction + source_duplicate_fraction must not exceed 1"
            )
        return self

    @model_validator(mode="after")
    def _check_local_ports(self) -> Settings:
        ports = {
            "BQINGEST_API_PORT": self.api_port,
            "BQINGEST_SOURCE_METRICS_PORT": self.local_source_metrics_port,
            "BQINGEST_PIPELINE_METRICS_PORT": self.local_pipeline_metrics_port,
        }
        seen: dict[int, str] = {}
        for variable, port in ports.items():
            if port and port in seen:
                raise ValueError(
                    f"{variable} and {seen[port]} would both use port {port} under "
                    "`bqingest up`: give each its own (0 turns a metrics endpoint off)"
                )
            seen[port] = variable
        return self

    def as_environment(self) -> dict[str, str]:
        """These settings as the ``BQINGEST_*`` variables that would set them (unset: omitted).

        Round-trips: ``Settings()`` in a process with this environment equals ``self``. Used to
        hand the same settings to child processes and by ``bqingest settings``.
        """
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple | list):
                text = ",".join(str(item) for item in value)
            else:
                text = str(value)
            env[f"BQINGEST_{name.upper()}"] = text
        return env

    @property
    def is_local(self) -> bool:
        return self.environment == "local"

    @property
    def events_table_id(self) -> str:
        return f"{self.project}.{self.dataset}.{self.events_table}"

    @property
    def dead_letter_table_id(self) -> str:
        return f"{self.project}.{self.dataset}.{self.dead_letter_table}"

    @property
    def dedup_view_id(self) -> str:
        return f"{self.project}.{self.dataset}.{self.dedup_view}"

    @property
    def topic_path(self) -> str:
        return f"projects/{self.project}/topics/{self.topic}"

    @property
    def subscription_path(self) -> str:
        return f"projects/{self.project}/subscriptions/{self.subscription}"

    @property
    def dead_letter_topic_path(self) -> str:
        return f"projects/{self.project}/topics/{self.dead_letter_topic}"

    @property
    def dead_letter_subscription_path(self) -> str:
        return f"projects/{self.project}/subscriptions/{self.dead_letter_subscription}"

    @property
    def local_source_metrics_port(self) -> int:
        """The source's metrics port under ``bqingest up`` (0: off)."""
        port = self.source_metrics_port
        return LOCAL_SOURCE_METRICS_PORT if port is None else port

    @property
    def local_pipeline_metrics_port(self) -> int:
        """The pipeline's metrics port under ``bqingest up`` (0: off)."""
        port = self.pipeline_metrics_port
        return LOCAL_PIPELINE_METRICS_PORT if port is None else port


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once (tests call ``get_settings.cache_clear()``)."""
    return Settings()
