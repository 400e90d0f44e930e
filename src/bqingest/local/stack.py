"""Both emulators as one unit: started together, stopped together, never left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from bqingest.clients import port_is_open
from bqingest.config import LocalSettings
from bqingest.local.bigquery_emulator import BigQueryEmulator
from bqingest.local.polling import until_deadline
from bqingest.local.pubsub_emulator import PubSubEmulator

PORT_RELEASE_SECONDS: Final = 15.0
"""How long a start waits for a port that a previous run's process is still giving up."""


def wait_until_released(
    host_ports: Iterable[str],
    *,
    timeout: float = PORT_RELEASE_SECONDS,
    on_wait: Callable[[list[str]], None] = lambda busy: None,
    interval: float = 0.1,
) -> list[str]:
    """Wait until nothing listens on any of ``host_ports``; return those still busy at the end.

    A run killed with SIGKILL leaves its processes to stop on their own (the kernel sends them
    SIGTERM: :mod:`bqingest.local.processes`); a new run started at once finds their ports taken
    for a moment. Whatever still listens after ``timeout`` is something else, and the caller
    reports it (the emulators raise PortInUse).
    """
    busy = list(host_ports)
    for attempt in until_deadline(timeout=timeout, interval=interval):
        busy = [hp for hp in busy if port_is_open(hp)]
        if not busy:
            break
        if attempt == 0:
            on_wait(busy)
    return busy


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
