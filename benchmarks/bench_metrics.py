"""What the pipeline's counting costs per message, against the work it counts.

For the same 20,000 messages (the source's mix): ``process_message`` alone (parse, validate,
build the row: the baseline), then ``process_message`` plus every count the pipeline makes,
the way the pipeline makes them: the parse step tallies each message in plain integers
(:class:`ParseTally`) and adds the tallies to the metrics once per bundle (10 messages, the
local runner's bundle), and the sink counts what a write did once per batch
(:func:`count_written`, batches of 500 rows: half a second at the local pipeline's rate), which
updates the Beam counters and distribution and their Prometheus twins. Outside a running
pipeline Beam has no metrics container and its half does nothing, so the difference is the
Prometheus half, Beam's per-row distribution call and the helpers.

Both variants keep each batch's rows until it is counted (the pipeline holds them too), so the
difference is the counting alone. The machine is shared: the two variants alternate, round after
round, and the figures are medians over the rounds (the difference: the median of each round's
difference).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from benchmarks.bench_parse import NOW, messages
from bqingest.pipeline.metrics import ParseTally, count_written
from bqingest.pipeline.processing import Destination, RowToWrite, process_message
from bqingest.pipeline.sink import tally_of
from bqingest.pipeline.writer import WriteOutcome

WRITTEN = NOW + timedelta(seconds=1)
BUNDLE = 10
BATCH = 500
ROUNDS = 15


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    batch = messages()

    def work() -> None:
        rows: list[RowToWrite] = []
        for message in batch:
            rows.append(process_message(message, max_bytes=1024 * 1024, now=NOW))
            if len(rows) == BATCH:
                rows = []

    def counted_work() -> None:
        tally = ParseTally()
        rows: list[RowToWrite] = []
        for n, message in enumerate(batch, start=1):
            tally.read(message.publish_time)
            row = process_message(message, max_bytes=1024 * 1024, now=NOW)
            if row.destination is Destination.EVENTS:
                tally.parsed()
            else:
                tally.rejected()
            rows.append(row)
            if n % BUNDLE == 0:
                tally.flush()
            if len(rows) == BATCH:
                _count_batch(rows)
                rows = []
        tally.flush()
        if rows:
            _count_batch(rows)

    work()  # warm up (imports, caches)
    counted_work()
    alone, counted = [], []
    for _ in range(ROUNDS):
        alone.append(_seconds(work))
        counted.append(_seconds(counted_work))
    per_message = 1e6 / len(batch)
    baseline, with_counting = statistics.median(alone), statistics.median(counted)
    adds = statistics.median(c - a for a, c in zip(alone, counted, strict=True))
    print(
        f"messages: {len(batch)}; counted per bundle of {BUNDLE}, written per batch of {BATCH}; "
        f"medians of {ROUNDS} alternating rounds"
    )
    print(f"process_message alone:         {baseline * per_message:6.2f} us/message")
    print(f"with the pipeline's counting:  {with_counting * per_message:6.2f} us/message")
    print(f"counting adds:                 {adds * per_message:6.2f} us/message")
    print(f"ratio (alone / with counting): {baseline / with_counting:.2f}")


def _count_batch(rows: list[RowToWrite]) -> None:
    """Count a batch as the sink counts what WarehouseWriter.write did with it."""
    outcome = WriteOutcome(
        events_written=[r for r in rows if r.destination is Destination.EVENTS],
        dead_letters_written=[r for r in rows if r.destination is Destination.DEAD_LETTERS],
    )
    count_written(tally_of(outcome), WRITTEN)


if __name__ == "__main__":
    main()
