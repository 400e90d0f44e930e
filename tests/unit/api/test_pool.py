"""The warehouse pool: off the loop, bounded, shedding, with a deadline and Google errors mapped."""

from __future__ import annotations

import asyncio
import threading

import pytest
from google.api_core import exceptions as google

from bqingest.api.errors import (
    Overloaded,
    UpstreamResourceMissing,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bqingest.api.metrics import build_metrics
from bqingest.api.pool import WarehousePool


def make_pool(**overrides) -> WarehousePool:
    values = {"threads": 2, "queue_size": 1, "deadline": 5.0, "metrics": build_metrics()}
    values.update(overrides)
    return WarehousePool(**values)


def test_calls_run_in_worker_threads() -> None:
    pool = make_pool()
    loop_thread = threading.get_ident()
    worker = asyncio.run(pool.run("q", threading.get_ident))
    assert worker != loop_thread
    pool.shutdown()


def test_beyond_threads_plus_queue_requests_are_shed_and_slots_come_back() -> None:
    pool = make_pool(threads=1, queue_size=1)
    gate = threading.Event()

    async def scenario() -> list[object]:
        running = asyncio.ensure_future(pool.run("q", gate.wait, 5))
        queued = asyncio.ensure_future(pool.run("q", gate.wait, 5))
        await asyncio.sleep(0.05)
        assert pool.pending == 2
        with pytest.raises(Overloaded):
            await pool.run("q", gate.wait, 5)
        gate.set()
        results = await asyncio.gather(running, queued)
        assert pool.pending == 0
        results.append(await pool.run("q", lambda: "room again"))
        return results

    assert asyncio.run(scenario()) == [True, True, "room again"]
    pool.shutdown()


def test_deadline_gives_503_and_the_slot_is_held_until_the_thread_ends() -> None:
    pool = make_pool(threads=1, queue_size=0, deadline=0.05)
    gate = threading.Event()

    async def scenario() -> None:
        with pytest.raises(UpstreamTimeout):
            await pool.run("slow", gate.wait, 5)
        assert pool.pending == 1  # the thread is still busy: the bound still counts it
        with pytest.raises(Overloaded):
            await pool.run("q", lambda: None)
        gate.set()
        for _ in range(100):
            if pool.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert pool.pending == 0

    asyncio.run(scenario())
    pool.shutdown()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (google.NotFound("no table"), UpstreamResourceMissing),
        (google.ServiceUnavailable("down"), UpstreamUnavailable),
        (google.GatewayTimeout("slow"), UpstreamUnavailable),
        (google.DeadlineExceeded("slow"), UpstreamTimeout),
        (TimeoutError("slow"), UpstreamTimeout),
    ],
)
def test_google_errors_are_translated(raised: Exception, expected: type) -> None:
    pool = make_pool()

    def fail() -> None:
        raise raised

    with pytest.raises(expected) as caught:
        asyncio.run(pool.run("q", fail))
    assert caught.value.__cause__ is raised
    pool.shutdown()


def test_other_errors_pass_unchanged() -> None:
    pool = make_pool()

    def fail() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        asyncio.run(pool.run("q", fail))
    pool.shutdown()
