"""Stopping without losing what was published: the publishers first, then the pipeline once it
has written everything it read.

The Pub/Sub emulator keeps messages in memory only, and the local runner acknowledges a message
when it pulls it, before it is written. Whatever the pipeline still holds when the emulator stops
(a batch waiting for its delay, bundles queued behind it) or has not pulled yet is gone for good:
a restart's recovery replays from the emulator, and a new emulator starts empty. So ``bqingest
up`` stops in this order: the API and the source (nothing new is published; the source finishes
and records the batch in progress), then it waits until the pipeline's ``/metrics`` count every
message it read as a row written and no new read for :data:`QUIET_SECONDS` (its subscription is
empty: an idle pull returns within a quarter of a second), then it stops the pipeline and the
emulators. docs/local.md says what survives a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bqingest.local.polling import until_deadline
from bqingest.metric_names import PipelineSeries
from bqingest.operations.readings import Samples, ScrapeFailed, scrape

QUIET_SECONDS: Final = 1.0
"""No new read for this long, with every read written: the pipeline holds nothing more."""
TIMEOUT_SECONDS: Final = 60.0
"""How long a stop waits for the pipeline at most (a backlog of tens of thousands of messages)."""


@dataclass(frozen=True)
class Drain:
    """How waiting for the pipeline ended."""

    drained: bool
    read: int
    written: int
    seconds: float
    error: str | None = None

    def describe(self) -> str:
        if self.drained:
            return (
                f"the pipeline wrote every message it read ({self.read:,}) in {self.seconds:.1f}s"
            )
        if self.error is not None:
            return f"could not read the pipeline's metrics ({self.error}); not waiting for it"
        return (
            f"the pipeline had written {self.written:,} rows of {self.read:,} messages read "
            f"after {self.seconds:.0f}s; what it still held is lost with the emulator"
        )


def wait_until_written(
    url: str,
    *,
    timeout: float = TIMEOUT_SECONDS,
    quiet: float = QUIET_SECONDS,
    interval: float = 0.25,
    read_metrics: Callable[[str], Samples] = scrape,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Drain:
    """Poll the pipeline's metrics at ``url`` until it holds nothing, or ``timeout`` passes."""
    started = clock()
    last_read: float | None = None
    unchanged_since = started
    read = written = 0.0
    for _ in until_deadline(timeout=timeout, interval=interval, clock=clock, sleep=sleep):
        try:
            samples = read_metrics(url)
        except ScrapeFailed as exc:
            return Drain(False, int(read), int(written), clock() - started, error=str(exc))
        read, written = (
            samples.total(PipelineSeries.MESSAGES_READ),
            samples.total(PipelineSeries.ROWS_WRITTEN),
        )
        now = clock()
        if read != last_read:
            last_read, unchanged_since = read, now
        if written >= read and now - unchanged_since >= quiet:
            return Drain(True, int(read), int(written), now - started)
    return Drain(False, int(read), int(written), clock() - started)
