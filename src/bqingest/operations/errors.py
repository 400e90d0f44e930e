"""Errors of the operations commands (expected failures: one ``error:`` line, exit 1).

OperationsError
├── MetricsPortUnavailable  a process cannot serve its /metrics on the configured port
├── EmulatorUnreachable     a command needs an emulator of the local stack, and it is not up
└── ReconcileError          the reconciliation window or its inputs are unusable
"""

from __future__ import annotations


class OperationsError(RuntimeError):
    """Base class; the message says what to do."""


class MetricsPortUnavailable(OperationsError):
    """The metrics port is taken or cannot be bound."""


class EmulatorUnreachable(OperationsError):
    """A configured emulator does not answer (the local stack is not running)."""


class ReconcileError(OperationsError):
    """The window is empty or invalid, or a count cannot be read."""
