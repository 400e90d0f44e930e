"""The settings every process shares: where the system lives and how to reach it.

Defaults describe the local stack (``environment=local``): the Pub/Sub emulator on 127.0.0.1:8085
and bqemulator on 127.0.0.1:9050 (REST) and 9060 (gRPC). Any other environment (``dev``,
``staging``, ``prod``) talks to GCP, so emulator endpoints there are refused at start-up rather
than silently sending production traffic to a laptop port. Resource names match Terraform's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bqingest import formats
from bqingest.contract.events import DEFAULT_MAX_MESSAGE_BYTES

Environment = Literal["local", "dev", "staging", "prod"]

LOCAL_PUBSUB_EMULATOR_HOST: Final = "127.0.0.1:8085"
LOCAL_BIGQUERY_EMULATOR_HOST: Final = "127.0.0.1:9050"
LOCAL_BIGQUERY_EMULATOR_GRPC_HOST: Final = "127.0.0.1:9060"
_LOCAL_PROJECT: Final = "bqingest-local"
_EMULATOR_DEFAULTS: Final = {
    "pubsub_emulator_host": LOCAL_PUBSUB_EMULATOR_HOST,
    "bigquery_emulator_host": LOCAL_BIGQUERY_EMULATOR_HOST,
    "bigquery_emulator_grpc_host": LOCAL_BIGQUERY_EMULATOR_GRPC_HOST,
}


def _matching(pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    return AfterValidator(check)


ProjectId = Annotated[
    str,
    _matching(
        formats.PROJECT_ID, "must be a GCP project id: 6-30 lowercase letters, digits, hyphens"
    ),
]
PubSubName = Annotated[
    str,
    _matching(
        formats.PUBSUB_NAME,
        "must be 3-255 characters, start with a letter, not start with 'goog', "
        "and use only letters, digits and -_.~+%",
    ),
]
BigQueryName = Annotated[
    str, _matching(formats.BIGQUERY_NAME, "must be letters, digits and underscores")
]
HostPort = Annotated[
    str, _matching(formats.HOST_PORT, "must be host:port, e.g. 127.0.0.1:8085 (no scheme)")
]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the Google clients connect: GCP when no emulator is named, the emulators otherwise.

    What :mod:`bqingest.clients` needs and nothing more, so a process that has no settings of its
    own (a Dataflow worker, the Flex Template launcher) builds one from its validated options.
    """

    project: str
    location: str = "US"
    pubsub_emulator: str | None = None
    bigquery_emulator: str | None = None
    bigquery_emulator_grpc: str | None = None


class CoreSettings(BaseSettings):
    """Settings of every process. Environment variable = ``BQINGEST_`` + the upper-cased name."""

    model_config = SettingsConfigDict(
        env_prefix="BQINGEST_", env_file=".env", extra="ignore", frozen=True
    )
    group: ClassVar[str] = "core"
    """Which processes read a class's own fields (the configuration reference groups by it)."""

    environment: Environment = Field(
        "local",
        description="`local` uses the emulators; `dev`, `staging`, `prod` use GCP and refuse "
        "emulator endpoints.",
    )
    project: ProjectId = Field(
        _LOCAL_PROJECT,
        description="GCP project id (required outside local).",
    )
    location: str = Field("US", description="BigQuery dataset location.")
    dataset: BigQueryName = Field("bqingest", description="BigQuery dataset.")
    events_table: BigQueryName = Field("events", description="Table of valid events.")
    dead_letter_table: BigQueryName = Field(
        "dead_letters",
        description="Table of rejected messages, with reason and raw payload.",
    )
    dedup_view: BigQueryName = Field(
        "events_dedup",
        description="View over events: one row per event.",
    )
    topic: PubSubName = Field(
        "events",
        description="Pub/Sub topic the source and the API publish to.",
    )
    subscription: PubSubName = Field(
        "events-pipeline",
        description="The pipeline's subscription to the topic.",
    )
    pubsub_emulator_host: HostPort | None = Field(
        None,
        description="Local only: the Pub/Sub emulator, host:port.",
        json_schema_extra={"default_text": f"{LOCAL_PUBSUB_EMULATOR_HOST} locally"},
    )
    bigquery_emulator_host: HostPort | None = Field(
        None,
        description="Local only: the BigQuery emulator's REST API, host:port.",
        json_schema_extra={"default_text": f"{LOCAL_BIGQUERY_EMULATOR_HOST} locally"},
    )
    bigquery_emulator_grpc_host: HostPort | None = Field(
        None,
        description="Local only: the BigQuery emulator's Storage API (gRPC), host:port.",
        json_schema_extra={"default_text": f"{LOCAL_BIGQUERY_EMULATOR_GRPC_HOST} locally"},
    )
    max_message_bytes: int = Field(
        DEFAULT_MAX_MESSAGE_BYTES,
        ge=formats.MIN_MESSAGE_BYTES,
        le=formats.MAX_MESSAGE_BYTES,
        description="Size limit of one message (body plus attributes); larger ones are "
        "dead-lettered as too_large.",
    )
    schemas_dir: Path | None = Field(
        None,
        description="The schema registry's folder (<type>/v<major>.json, docs/schemas.md). "
        "Unset: the demo types' schemas shipped with bqingest.",
    )
    unknown_types: Literal["store", "reject"] = Field(
        "store",
        description="An event whose type has no schema: `store` keeps it with untyped data; "
        "`reject` dead-letters it (and the API refuses it) as unknown_type.",
    )
    data_dir: Path = Field(
        Path(".bqingest"),
        description="Local state: the warehouse file, the source's ledger, logs.",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="Address the source's and the pipeline's /metrics bind to."
    )

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        """Locally, unset emulator endpoints get the local stack's; elsewhere none is allowed."""
        if not isinstance(data, dict):
            return data
        environment = data.get("environment", "local")
        if environment == "local":
            return {**_EMULATOR_DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
        named = [name for name in _EMULATOR_DEFAULTS if data.get(name) is not None]
        if named:
            raise ValueError(
                f"environment={environment} talks to GCP; emulator endpoints "
                f"({', '.join('BQINGEST_' + n.upper() for n in named)}) are for "
                "environment=local only"
            )
        if data.get("project", _LOCAL_PROJECT) == _LOCAL_PROJECT:
            raise ValueError(
                f"environment={environment} needs BQINGEST_PROJECT: the GCP project id"
            )
        return data

    def as_environment(self) -> dict[str, str]:
        """These settings as the ``BQINGEST_*`` variables that would set them (unset: omitted).

        Round-trips: the same class built in a process with this environment equals ``self``.
        Used to hand the settings to child processes and by ``bqingest settings``.
        """
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple | list) and any(isinstance(i, dict) for i in value):
                text = json.dumps(list(value))  # structured items (API keys): a JSON array
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
    def endpoints(self) -> Endpoints:
        return Endpoints(
            project=self.project,
            location=self.location,
            pubsub_emulator=self.pubsub_emulator_host,
            bigquery_emulator=self.bigquery_emulator_host,
            bigquery_emulator_grpc=self.bigquery_emulator_grpc_host,
        )

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
