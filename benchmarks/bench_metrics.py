"""What the pipeline's counting costs per message, against the work it counts.

For the same 20,000 messages (the source's mix): ``process_message`` alone (parse, validate,
build the row: the baseline), then ``process_message`` plus every count the pipeline makes for a
message (read, parsed or rejected, row written, freshness) through the helpers of
``bqingest.pipeline.metrics``, which update the Beam counter and its Prometheus twin. Outside a
running pipeline Beam has no metrics container and its half does nothing, so the difference is
the Prometheus half plus the helper calls.

Both variants keep each batch's rows (500, what the pipeline writes at once) until the batch is
done, as the pipeline does, so the difference is the counting alone. The machine is shared: the
two variants alternate, round after round, and the figures are medians over the rounds (the
difference: the median of each round's difference).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from benchmarks.bench_parse import NOW, messages
from bqingest.pipeline.metrics import (
    Count,
    count,
    count_dead_letter,
    count_message_read,
    observe_freshness,
)
from bqingest.pipeline.records import Destination, RowToWrite, process_message

WRITTEN = NOW + timedelta(seconds=1)
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
        rows: list[RowToWrite] = []
        for message in batch:
            count_message_read(message.publish_time)
            row = process_message(message, max_bytes=1024 * 1024, now=NOW)
            rows.append(row)
            if len(rows) == BATCH:
                rows = []
            if row.destination is Destination.EVENTS:
                count(Count.EVENTS_PARSED)
                count(Count.ROWS_WRITTEN_EVENTS)
                observe_freshness(NOW, WRITTEN)
            else:
                count(Count.PARSE_REJECTED)
                count(Count.ROWS_WRITTEN_DEAD_LETTERS)
                count_dead_letter(str(row.row["reason"]), str(row.row["stage"]))

    work()  # warm up (imports, caches)
    counted_work()
    alone, counted = [], []
    for _ in range(ROUNDS):
        alone.append(_seconds(work))
        counted.append(_seconds(counted_work))
    per_message = 1e6 / len(batch)
    baseline, with_counting = statistics.median(alone), statistics.median(counted)
    adds = statistics.median(c - a for a, c in zip(alone, counted, strict=True))
    print(f"messages: {len(batch)}; medians of {ROUNDS} alternating rounds")
    print(f"process_message alone:         {baseline * per_message:6.2f} us/message")
    print(f"with the pipeline's counting:  {with_counting * per_message:6.2f} us/message")
    print(f"counting adds:                 {adds * per_message:6.2f} us/message")
    print(f"ratio (alone / with counting): {baseline / with_counting:.2f}")


if __name__ == "__main__":
    main()
