"""Fail in about a second, with what to do, when an operations command's emulator is not up.

Run against a stopped local stack, the Google clients retry for many minutes before they give
up (``bqingest reconcile`` waited more than ten). The commands that read or publish check the
emulators they use first (:func:`bqingest.clients.silent_emulators`). Outside the local stack
no emulator is configured and nothing is checked.
"""

from __future__ import annotations

from collections.abc import Iterable

from bqingest.clients import silent_emulators
from bqingest.config import OperationsSettings
from bqingest.operations.errors import EmulatorUnreachable

WAREHOUSE = ("bigquery_emulator",)
"""What the warehouse queries use."""


def require_emulators(settings: OperationsSettings, only: Iterable[str] = WAREHOUSE) -> None:
    """Raise EmulatorUnreachable naming each emulator of ``only`` configured but not answering."""
    problems = silent_emulators(settings.endpoints, only=only)
    if problems:
        raise EmulatorUnreachable(
            "; ".join(problems) + ": is the local stack running? Start it with `make run` "
            "(or `bqingest up`) in another shell, then run this again"
        )
