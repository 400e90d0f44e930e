"""Freshness: seconds from publish to row visible in the warehouse, at 100 events/s.

The real pipeline runs on the local runner against both emulators. After a warm-up (so that
Beam's start-up is not counted), the source publishes 100 events/s for 60 s, noting when it
handed each event to the publisher; a poller queries the warehouse every 0.2 s and notes when
each id first appears (the start of the query that returned it, so the figure includes up to one
polling interval). Also shown: publish_time -> ingested_at inside the pipeline, from the rows.
Target: p99 <= 5 s.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.cloud import bigquery

from benchmarks.localstack import VARIANTS, count_events, local_stack, our_pipeline, wait_for
from bqingest import clients
from bqingest.source.generator import EventGenerator
from bqingest.source.publisher import BATCH_SETTINGS
from bqingest.warehouse import query as warehouse

RATE = 100
SECONDS = 60
POLL = 0.2


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    for label, time_travel in VARIANTS:
        print(f"{label}:")
        _measure(time_travel)


def _measure(time_travel: bool) -> None:
    with (
        local_stack(time_travel=time_travel) as settings,
        tempfile.TemporaryDirectory() as tmp,
    ):
        bq = clients.bigquery_client(settings.endpoints)
        publisher = clients.publisher_client(settings.endpoints, batch_settings=BATCH_SETTINGS)
        generator = EventGenerator(seed=100)
        with our_pipeline(settings, Path(tmp) / "pipeline.log"):
            for message in generator.batch(50):  # warm-up
                publisher.publish(settings.topic_path, message.data, **message.attributes)
            wait_for(lambda: count_events(bq, settings) >= 50, timeout=300, what="warm-up")

            sent: dict[str, float] = {}
            seen: dict[str, float] = {}
            done = threading.Event()

            def poll() -> None:
                since = datetime.now(UTC) - timedelta(seconds=5)
                while not done.is_set():
                    started, started_utc = time.time(), datetime.now(UTC)
                    rows = warehouse.query_all(
                        bq,
                        f"SELECT id FROM `{settings.events_table_id}` WHERE ingested_at >= @since",
                        parameters=[bigquery.ScalarQueryParameter("since", "TIMESTAMP", since)],
                    )
                    for row in rows:
                        seen.setdefault(row["id"], started)
                    since = started_utc - timedelta(seconds=10)
                    time.sleep(max(0.0, POLL - (time.time() - started)))

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            began = time.monotonic()
            for n in range(RATE * SECONDS):
                wait = began + n / RATE - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                message = generator.next_message()
                sent_at = time.time()
                future = publisher.publish(settings.topic_path, message.data, **message.attributes)
                event_id = message.event_id or future.result(timeout=30)
                sent[event_id] = sent_at
            wait_for(lambda: set(sent) <= set(seen), timeout=600, what="every event to be visible")
            done.set()
            inside = warehouse.query_all(
                bq,
                "SELECT TIMESTAMP_DIFF(ingested_at, publish_time, MILLISECOND) AS ms "
                f"FROM `{settings.events_table_id}`",
            )
    latencies = sorted(seen[i] - sent[i] for i in sent)
    pipeline_ms = sorted(float(r["ms"]) for r in inside)
    print(f"  {len(sent)} events at {RATE}/s for {SECONDS}s; warehouse polled every {POLL}s")
    print(
        f"  publish -> visible: p50 {_percentile(latencies, 50):.2f}s  "
        f"p99 {_percentile(latencies, 99):.2f}s  max {latencies[-1]:.2f}s (target p99 <= 5s)"
    )
    print(
        "  publish_time -> ingested_at (inside the pipeline): "
        f"p50 {_percentile(pipeline_ms, 50) / 1000:.2f}s  "
        f"p99 {_percentile(pipeline_ms, 99) / 1000:.2f}s"
    )


if __name__ == "__main__":
    main()
