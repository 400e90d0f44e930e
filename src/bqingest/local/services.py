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

from bqingest.config import Settings


@dataclass(frozen=True)
class Service:
    """A process of the local system: how to start it and how to tell it is serving."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None


def bqingest_command(*args: str) -> list[str]:
    """argv that runs a bqingest sub-command with this interpreter."""
    return [sys.executable, "-m", "bqingest", *args]


def http_ok(url: str) -> bool:
    """Whether ``url`` answers 200 (a readiness probe)."""
    with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (http://127.0.0.1 only)
        return bool(response.status == 200)


def api_service(settings: Settings) -> Service:
    """The read API (``bqingest api``), ready when ``/healthz`` answers."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host  # noqa: S104
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
    )


def local_services(settings: Settings) -> list[Service]:
    """The services of the local system, in start order."""
    return [
        # The pipeline first, so that it is reading when the source's first batch goes out
        # (its recovery would replay it anyway).
        Service(name="pipeline", argv=bqingest_command("pipeline")),
        Service(name="source", argv=bqingest_command("source")),
        api_service(settings),
    ]
