"""The long-running processes ``bqingest up`` starts after the emulators and bootstrap.

Each is a ``bqingest`` sub-command in its own process, reading the same settings from the
environment. Adding a part of the system to the local run means adding one entry here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


def local_services(settings: Settings) -> list[Service]:
    """The services of the local system, in start order."""
    del settings  # each reads the same BQINGEST_* environment as `up`
    return [
        # Ingestion (issue 3): the pipeline first, so that it is reading when the source's first
        # batch goes out (its recovery would replay it anyway).
        Service(name="pipeline", argv=bqingest_command("pipeline")),
        Service(name="source", argv=bqingest_command("source")),
    ]
