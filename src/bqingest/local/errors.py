"""Errors of the local stack. Each message is one line a user can act on.

LocalStackError
├── PrerequisiteMissing   Java or the Pub/Sub emulator jar is not installed
├── PortInUse             something already listens where an emulator should
└── StartupFailed         an emulator exited or did not become ready in time
"""

from __future__ import annotations


class LocalStackError(RuntimeError):
    """Base class: the local stack cannot run. The message says what to do."""


class PrerequisiteMissing(LocalStackError):
    """A program the local stack needs is not installed."""


class PortInUse(LocalStackError):
    """The address an emulator must listen on is taken."""


class StartupFailed(LocalStackError):
    """A process exited early or did not answer before its deadline."""
