"""Settings of ``bqingest up`` (the whole system on one machine) and ``bqingest status``.

``up`` starts every other process, so it reads every group: it validates them together once
(ports that would collide, for one) and hands them to its children as ``BQINGEST_*`` variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

from bqingest.config.api import ApiSettings
from bqingest.config.operations import OperationsSettings
from bqingest.config.pipeline import LOCAL_PIPELINE_METRICS_PORT, PipelineSettings
from bqingest.config.source import LOCAL_SOURCE_METRICS_PORT, SourceSettings


class LocalSettings(ApiSettings, PipelineSettings, SourceSettings, OperationsSettings):
    """Every group, plus what only the local stack needs."""

    group: ClassVar[str] = "local"

    pubsub_emulator_jar: Path | None = Field(
        None, description="Path to cloud-pubsub-emulator-*-all.jar; found automatically if unset."
    )
    bigquery_emulator_time_travel: bool = Field(
        False,
        description="Let bqemulator copy a table after every write so that FOR SYSTEM_TIME AS "
        "OF works. Off: each write would copy the whole table, which slows ingestion as tables "
        "grow, and nothing in bqingest reads past versions.",
    )
    startup_timeout_seconds: float = Field(
        60.0, gt=0, le=600, description="How long each emulator and service may take to start."
    )

    @model_validator(mode="after")
    def _check_local_ports(self) -> LocalSettings:
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
