"""The one real clock: the current time in UTC.

Every part that stamps or windows by the wall clock (the API's default read window, the source's
event times and ledger, dead-letter replay, the pipeline's rows and freshness) takes a clock as a
parameter defaulting to :func:`utc_now`, so tests inject their own. Depends on nothing of bqingest.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
