"""Errors that stop the pipeline (bad input never does: it becomes a dead letter).

BqingestError (bqingest.errors: the root of the project's errors)
└── PipelineError
    ├── OptionsError         the command line is incomplete or unsafe (no runner, bad table id)
    ├── EndpointUnreachable  an emulator or service does not answer; says which and what to run
    ├── ResourceMissing      the subscription or a table does not exist; says how to create it
    ├── RecoveryError        the local runner cannot recover what a previous run acknowledged
    └── SinkError            the warehouse cannot take rows the pipeline must not drop
        ├── SinkUnavailable  transient errors went on past the retry deadline
        └── SinkRequestRefused  BigQuery refused a whole request: not a bad row, nothing written
"""

from __future__ import annotations

from bqingest.errors import BqingestError


class PipelineError(BqingestError):
    """Base class: the pipeline cannot start or cannot go on. The message says why."""


class OptionsError(PipelineError):
    """Missing or invalid pipeline options."""


class EndpointUnreachable(PipelineError):
    """A Pub/Sub or BigQuery endpoint the pipeline needs does not answer."""


class ResourceMissing(PipelineError):
    """The subscription or a table the pipeline needs does not exist."""


class RecoveryError(PipelineError):
    """The subscription cannot be replayed to recover acknowledged but unwritten messages."""


class SinkError(PipelineError):
    """Rows that cannot be written anywhere (dead-letter rows refused by BigQuery)."""


class SinkUnavailable(SinkError):
    """BigQuery kept failing with transient errors for longer than the retry deadline."""


class SinkRequestRefused(SinkError):
    """BigQuery refused a whole append for a reason that is not one row's (a schema that lags
    the contract, a permission): the rows are kept for a retry, none is dead-lettered."""
