"""Errors of the operations commands (expected failures: one ``error:`` line, exit 1).

BqingestError (bqingest.errors: the root of the project's errors)
└── OperationsError
    ├── EmulatorUnreachable     a command needs an emulator of the local stack, and it is not up
    ├── ReconcileError          the reconciliation window or its inputs are unusable
    ├── ReplayError             (operations.dead_letters) a replay that cannot be done as asked
    └── ScrapeFailed            (operations.readings) an endpoint gave no Prometheus text

A port a process cannot serve its /metrics on is :class:`bqingest.telemetry.MetricsPortUnavailable`.
"""

from __future__ import annotations

from bqingest.errors import BqingestError


class OperationsError(BqingestError):
    """Base class; the message says what to do."""


class EmulatorUnreachable(OperationsError):
    """A configured emulator does not answer (the local stack is not running)."""


class ReconcileError(OperationsError):
    """The window is empty or invalid, or a count cannot be read."""
