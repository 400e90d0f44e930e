"""Parse + validate + row build on one core, against bare ``json.loads`` of the same messages.

The messages are the source's own mix of event types (both Pub/Sub modes), no faults. Each round
times the whole list; the medians of several rounds are compared. Target: ratio >= 0.25.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from bqingest.pipeline.proto_rows import schema_for
from bqingest.pipeline.records import Destination, ReceivedMessage, RowToWrite, process_message
from bqingest.source.generator import EventGenerator

MESSAGES = 20_000
ROUNDS = 7
NOW = datetime(2026, 11, 29, 7, tzinfo=UTC)


def messages(count: int = MESSAGES) -> list[ReceivedMessage]:
    generated = EventGenerator(seed=2026, clock=lambda: NOW).batch(count)
    return [
        ReceivedMessage(m.data, m.attributes, f"{n:016d}", NOW) for n, m in enumerate(generated)
    ]


def _median_seconds(work: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(count: int = MESSAGES) -> dict[str, float]:
    """events/s of json.loads, of parse+validate+row build, and of that plus proto encoding."""
    batch = messages(count)
    bodies = [m.data for m in batch]

    def bare() -> object:
        return [json.loads(body) for body in bodies]

    def ours() -> list[RowToWrite]:
        return [process_message(m, max_bytes=1024 * 1024, now=NOW) for m in batch]

    rows = ours()
    assert all(r.destination is Destination.EVENTS for r in rows), "benchmark input must be valid"
    schemas = {
        Destination.EVENTS: schema_for(EVENTS),
        Destination.DEAD_LETTERS: schema_for(DEAD_LETTERS),
    }

    def ours_and_encode() -> object:
        return [schemas[r.destination].encode(r.row) for r in ours()]

    return {
        "json_loads": count / _median_seconds(bare),
        "parse_validate_row": count / _median_seconds(ours),
        "parse_validate_row_encode": count / _median_seconds(ours_and_encode),
    }


def main() -> None:
    rates = measure()
    baseline = rates["json_loads"]
    print(f"{MESSAGES} messages, median of {ROUNDS} rounds, one core")
    for name, rate in rates.items():
        print(f"  {name:<28} {rate:>12,.0f} events/s   ratio to json.loads {rate / baseline:.3f}")
    ratio = rates["parse_validate_row"] / baseline
    print(f"parse+validate+row build / json.loads = {ratio:.3f} (target >= 0.25)")


if __name__ == "__main__":
    main()
