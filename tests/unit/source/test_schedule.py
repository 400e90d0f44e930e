"""The scheduled source publishes at start and on its interval; load mode publishes exactly N."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from bqingest.source.generator import EventGenerator, OutgoingMessage
from bqingest.source.publisher import PublishReport
from bqingest.source.schedule import run_load, run_scheduled


class CountingPublisher:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def publish(self, messages: Sequence[OutgoingMessage]) -> PublishReport:
        self.batches.append(len(messages))
        return PublishReport()


class InstantStop(threading.Event):
    """An Event whose wait() returns at once (no real sleeping), counting the waits."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return self.is_set()


def test_first_batch_goes_out_at_start_then_every_interval() -> None:
    publisher = CountingPublisher()
    stop = InstantStop()
    lines: list[str] = []
    run_scheduled(
        publisher,  # type: ignore[arg-type]
        EventGenerator(seed=1),
        every=180,
        batch_size=7,
        stop=stop,
        report=lines.append,
        batches=3,
    )
    assert publisher.batches == [7, 7, 7]
    assert stop.waits == [180, 180]  # waited between batches, not before the first
    assert "next batch in 180s" in lines[0]


def test_a_set_stop_ends_the_schedule_after_the_batch_in_progress() -> None:
    publisher = CountingPublisher()
    stop = InstantStop()
    stop.set()
    run_scheduled(
        publisher,
        EventGenerator(seed=1),
        every=1,
        batch_size=3,
        stop=stop,
        report=print,  # type: ignore[arg-type]
    )
    assert publisher.batches == []


def test_load_mode_publishes_exactly_count_at_the_rate() -> None:
    publisher = CountingPublisher()
    clock = iter(x * 0.05 for x in range(10_000))
    run_load(
        publisher,  # type: ignore[arg-type]
        EventGenerator(seed=1),
        rate=200,
        count=95,
        stop=InstantStop(),
        report=lambda line: None,
        monotonic=lambda: next(clock),
    )
    assert sum(publisher.batches) == 95
    assert max(publisher.batches) <= 30  # spread over ticks, not all at once
