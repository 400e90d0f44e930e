"""The root of every exception bqingest defines: catch :class:`BqingestError` to catch them all.

It depends on nothing, so every part of the package (the base layer included) can import it.
Each part keeps its own tree in its own ``errors`` module; this docstring draws them all
(``tests/unit/test_errors.py`` checks that every exception class in the package is below the
root)::

    BqingestError
    ├── ContractError               contract.errors: a message or request breaks the event
    │                               contract (also a ValueError); carries a closed Reason
    ├── SchemaError                 contract.registry: a schema folder breaks the registry's
    │                               rules, or names no such schema (also a ValueError)
    ├── UnsafeSettings              config.api: valid settings refused outside local mode
    │                               (also a ValueError)
    ├── MetricsPortUnavailable      telemetry: a process cannot serve /metrics on its port
    ├── LedgerError                 source.ledger: the ledger file is from a newer schema
    ├── BootstrapError              bootstrap: a resource needs a migration, not an update
    ├── PipelineError               pipeline.errors: the pipeline cannot start or go on
    │   ├── OptionsError
    │   ├── EndpointUnreachable
    │   ├── ResourceMissing
    │   ├── RecoveryError
    │   └── SinkError
    │       ├── SinkUnavailable
    │       └── SinkRequestRefused
    ├── ApiError                    api.errors: answered deliberately, mapped to HTTP there
    │   └── ...                     (its tree and status codes are drawn in api/errors.py)
    ├── PubSubPartialFailure        api.publisher: Pub/Sub took part of a batch
    ├── PublishDenied               api.publisher: may not publish to the topic (also
    │                               google.api_core's Forbidden, which the API translates)
    ├── OperationsError             operations.errors: an operator command cannot proceed
    │   ├── EmulatorUnreachable
    │   ├── ReconcileError
    │   ├── ReplayError             operations.dead_letters (also a ValueError)
    │   └── ScrapeFailed            operations.readings: no Prometheus text at an endpoint
    └── LocalStackError             local.errors: the local stack cannot run
        ├── PrerequisiteMissing
        ├── PortInUse
        ├── StartupFailed
        └── StackStillRunning       local.fresh

A :class:`~bqingest.contract.errors.ContractError` is about data, not about bqingest failing: a
bad message is dead-lettered with its reason by the pipeline and answered 422 by the API, never
a crash. It is still the project's own error, raised by its own contract code, so it sits under
the root like the rest; code that must tell bad data from a failure catches ``ContractError``
first. Where an error was a ``ValueError`` before the root existed it still is one, so callers
that catch ``ValueError`` see no change.

The ``bqingest`` command catches the root once and prints its message as one ``error:`` line
(exit 1); the API maps its own subtree to HTTP in ``api/errors.py``. Errors of libraries
(pydantic's ``ValidationError`` for settings, the Google clients' errors) are not ours: they are
translated where they are met, or reported as they are.
"""

from __future__ import annotations


class BqingestError(Exception):
    """Base of every exception bqingest defines; the message says what happened and what to do."""
