"""The long-running processes ``bqingest up`` starts after the emulators and bootstrap.

Each is a ``bqingest`` sub-command in its own process, reading the same settings from the
environment. Adding a part of the system to the local run means adding one entry here.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from bqingest.config import LocalSettings
from bqingest.telemetry import metrics_url, reachable_host


@dataclass(frozen=True)
class Service:
    """A process of the local system: how to start it and how to tell it is serving."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None
    publishes: bool = False
    """Publishes to the topic: stopped before ``up`` waits for the pipeline to write everything
    (:mod:`bqingest.local.drain`)."""


def bqingest_command(*args: str) -> list[str]:
    """argv that runs a bqingest sub-command with this interpreter."""
    return [sys.executable, "-m", "bqingest", *args]


def http_ok(url: str) -> bool:
    """Whether ``url`` answers 200 (a readiness probe)."""
    with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (http://127.0.0.1 only)
        return bool(response.status == 200)


def api_service(settings: LocalSettings) -> Service:
    """The read API (``bqingest api``), ready when ``/healthz`` answers."""
    host = reachable_host(settings.api_host)
    base = (
        f"http://[{host}]:{settings.api_port}"
        if ":" in host
        else f"http://{host}:{settings.api_port}"
    )
    return Service(
        name="API",
        argv=bqingest_command("api"),
        ready=partial(http_ok, f"{base}/healthz"),
        endpoint=f"{base}/docs",
        publishes=True,  # POST /api/v1/events
    )


def metrics_service(
    name: str, command: str, *, variable: str, host: str, port: int, publishes: bool = False
) -> Service:
    """A sub-command that serves Prometheus metrics on ``port`` (ready when they answer);
    without a port, one with no readiness probe."""
    if not port:
        return Service(
            name=name, argv=bqingest_command(command), env={variable: "0"}, publishes=publishes
        )
    url = metrics_url(host, port)
    return Service(
        name=name,
        argv=bqingest_command(command),
        ready=partial(http_ok, url),
        env={variable: str(port)},
        endpoint=f"{url} (Prometheus)",
        publishes=publishes,
    )


def local_services(settings: LocalSettings) -> list[Service]:
    """The services of the local system, in start order."""
    return [
        # The pipeline first, so that it is reading when the source's first batch goes out
        # (its recovery would replay it anyway).
        metrics_service(
            "pipeline",
            "pipeline",
            variable="BQINGEST_PIPELINE_METRICS_PORT",
            host=settings.metrics_host,
            port=settings.local_pipeline_metrics_port,
        ),
        metrics_service(
            "source",
            "source",
            variable="BQINGEST_SOURCE_METRICS_PORT",
            host=settings.metrics_host,
            port=settings.local_source_metrics_port,
            publishes=True,
        ),
        api_service(settings),
    ]
