"""What the pipeline's counting costs per message, against the work it counts.

For the same 20,000 messages (the source's mix): ``process_message`` alone (parse, validate,
build the row: the baseline), then ``process_message`` plus every count the pipeline makes for a
message (read, parsed or rejected, row written, freshness) through the helpers of
``bqingest.pipeline.metrics``, which update the Beam counter and its Prometheus twin. Outside a
running pipeline Beam has no metrics container and its half does nothing, so the difference is
the Prometheus half plus the helper calls. Medians of several rounds.
"""

from __future__ import annotations

from datetime import timedelta

from benchmarks.bench_parse import NOW, _median_seconds, messages
from bqingest.pipeline.metrics import (
    Count,
    count,
    count_dead_letter,
    count_message_read,
    observe_freshness,
)
from bqingest.pipeline.records import Destination, process_message

WRITTEN = NOW + timedelta(seconds=1)


def main() -> None:
    batch = messages()

    def work() -> None:
        for message in batch:
            process_message(message, max_bytes=1024 * 1024, now=NOW)

    def counted_work() -> None:
        for message in batch:
            count_message_read(message.publish_time)
            row = process_message(message, max_bytes=1024 * 1024, now=NOW)
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
    baseline = _median_seconds(work)
    counted = _median_seconds(counted_work)
    per_message = 1e6 / len(batch)
    print(f"messages: {len(batch)}")
    print(f"process_message alone:         {baseline * per_message:6.2f} us/message (median)")
    print(f"with the pipeline's counting:  {counted * per_message:6.2f} us/message (median)")
    print(f"counting adds:                 {(counted - baseline) * per_message:6.2f} us/message")
    print(f"ratio (alone / with counting): {baseline / counted:.2f}")


if __name__ == "__main__":
    main()
