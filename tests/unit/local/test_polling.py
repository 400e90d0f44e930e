"""The local stack's polling loop: at once, then every interval, until the deadline passes."""

from __future__ import annotations

from bqingest.local.polling import until_deadline


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_attempts_come_every_interval_until_the_deadline_and_the_first_comes_at_once() -> None:
    fake = FakeTime()
    seen = [
        (attempt, fake.now)
        for attempt in until_deadline(
            timeout=1.0, interval=0.25, clock=fake.clock, sleep=fake.sleep
        )
    ]
    assert seen == [(0, 0.0), (1, 0.25), (2, 0.5), (3, 0.75), (4, 1.0)]
    assert fake.sleeps == [0.25] * 4  # no sleep after the last attempt


def test_a_caller_that_stops_early_sleeps_no_more() -> None:
    fake = FakeTime()
    for attempt in until_deadline(timeout=10, interval=1, clock=fake.clock, sleep=fake.sleep):
        if attempt == 2:
            break
    assert fake.sleeps == [1, 1]


def test_a_zero_timeout_still_makes_one_attempt() -> None:
    fake = FakeTime()
    assert list(until_deadline(timeout=0, interval=1, clock=fake.clock, sleep=fake.sleep)) == [0]
    assert fake.sleeps == []
