"""Errors of the local stack. Each message is one line a user can act on.

BqingestError (bqingest.errors: the root of the project's errors)
└── LocalStackError
    ├── PrerequisiteMissing   Java or the Pub/Sub emulator jar is not installed
    ├── PortInUse             something already listens where an emulator should
    ├── StartupFailed         an emulator exited or did not become ready in time
    └── StackStillRunning     (local.fresh) a clean slate was asked for while the stack runs
"""

from __future__ import annotations

from bqingest.errors import BqingestError


class LocalStackError(BqingestError):
    """Base class: the local stack cannot run. The message says what to do."""


class PrerequisiteMissing(LocalStackError):
    """A program the local stack needs is not installed."""


class PortInUse(LocalStackError):
    """The address an emulator must listen on is taken."""


class StartupFailed(LocalStackError):
    """A process exited early or did not answer before its deadline."""
