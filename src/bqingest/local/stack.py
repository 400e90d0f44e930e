"""Both emulators as one unit: started together, stopped together, never left behind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bqingest.config import LocalSettings
from bqingest.local.bigquery_emulator import BigQueryEmulator
from bqingest.local.pubsub_emulator import PubSubEmulator


@dataclass
class StartupTimes:
    """Seconds each emulator took to answer."""

    pubsub: float = 0.0
    bigquery: float = 0.0


class LocalStack:
    """The Pub/Sub emulator and bqemulator on the endpoints named in ``settings``.

    Use as a context manager; :meth:`stop` is idempotent and also runs if a start fails halfway.
    """

    def __init__(self, settings: LocalSettings, *, data_dir: Path | None = None) -> None:
        if not settings.is_local:
            raise ValueError("the local stack runs only with environment=local")
        assert settings.pubsub_emulator_host is not None
        assert settings.bigquery_emulator_host is not None
        assert settings.bigquery_emulator_grpc_host is not None
        self.settings = settings
        self.data_dir = (data_dir or settings.data_dir).resolve()
        self.log_dir = self.data_dir / "logs"
        self.pubsub = PubSubEmulator(
            settings.pubsub_emulator_host,
            jar=settings.pubsub_emulator_jar,
            log_path=self.log_dir / "pubsub-emulator.log",
        )
        self.bigquery = BigQueryEmulator(
            settings.bigquery_emulator_host,
            settings.bigquery_emulator_grpc_host,
            data_dir=self.data_dir / "warehouse",
            project=settings.project,
            log_path=self.log_dir / "bigquery-emulator.log",
            time_travel=settings.bigquery_emulator_time_travel,
        )
        self.times = StartupTimes()

    def start(self) -> StartupTimes:
        timeout = self.settings.startup_timeout_seconds
        try:
            # Both start in parallel; readiness is awaited one after the other.
            self.pubsub.launch()
            self.bigquery.launch()
            self.times.pubsub = self.pubsub.wait_ready(timeout=timeout)
            self.times.bigquery = self.bigquery.wait_ready(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self.times

    def stop(self) -> None:
        self.bigquery.stop()
        self.pubsub.stop()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
