"""The source's two ways of running: on a schedule (Cloud Scheduler's stand-in) and at a rate.

* :func:`run_scheduled`: a batch at start, then one every ``every`` seconds, until ``stop`` is set
  (SIGTERM/Ctrl-C finish the batch in progress, so the ledger never misses a published message).
* :func:`run_load`: ``count`` messages at ``rate`` per second, for tests and benchmarks.

Both print one line per batch (or per second of load) through ``report``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bqingest.source.generator import EventGenerator
from bqingest.source.publisher import PublishReport, SourcePublisher

Reporter = Callable[[str], None]


def run_scheduled(
    publisher: SourcePublisher,
    generator: EventGenerator,
    *,
    every: float,
    batch_size: int,
    stop: threading.Event,
    report: Reporter,
    batches: int | None = None,
) -> PublishReport:
    """Publish a batch now and every ``every`` seconds until ``stop`` (or ``batches`` done)."""
    total = PublishReport()
    done = 0
    while not stop.is_set():
        outcome = publisher.publish(generator.batch(batch_size))
        total.merge(outcome)
        done += 1
        if batches is not None and done >= batches:
            report(outcome.summary())
            break
        report(f"{outcome.summary()}; next batch in {every:g}s")
        if stop.wait(every):
            break
    return total


def run_load(
    publisher: SourcePublisher,
    generator: EventGenerator,
    *,
    rate: float,
    count: int,
    stop: threading.Event,
    report: Reporter,
    tick: float = 0.1,
    monotonic: Callable[[], float] = time.monotonic,
) -> PublishReport:
    """Publish ``count`` messages at ``rate`` per second (in ``tick``-second slices)."""
    if rate <= 0 or count < 0:
        raise ValueError("rate must be positive and count not negative")
    total = PublishReport()
    started = monotonic()
    sent = 0
    last_report = started
    while sent < count and not stop.is_set():
        due = min(count, int((monotonic() - started + tick) * rate))
        if due > sent:
            total.merge(publisher.publish(generator.batch(due - sent)))
            sent = due
        now = monotonic()
        if now - last_report >= 1.0 or sent >= count:
            report(
                f"{len(total.published)}/{count} published"
                + (f", {len(total.failed)} failed" if total.failed else "")
                + f" ({sent / max(now - started, 1e-9):.0f}/s)"
            )
            last_report = now
        next_tick = started + (int((now - started) / tick) + 1) * tick
        stop.wait(max(0.0, next_tick - monotonic()))
    return total
