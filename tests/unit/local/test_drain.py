"""Stopping `bqingest up`: publishers first, then the pipeline once it has written what it read."""

from __future__ import annotations

import socket

from bqingest.local.drain import wait_until_written
from bqingest.local.stack import wait_until_released
from bqingest.local.up import local_ports
from bqingest.metric_names import PipelineSeries
from bqingest.operations.readings import Samples, ScrapeFailed
from tests.conftest import local_settings


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pipeline_metrics(*scrapes: tuple[int, int]):
    """A /metrics that answers (read, written) pairs in turn, the last one from then on."""
    answers = list(scrapes)

    def read_metrics(url: str) -> Samples:
        read, written = answers.pop(0) if len(answers) > 1 else answers[0]
        return Samples.parse(
            f'{PipelineSeries.MESSAGES_READ}{{published="after_start"}} {read}\n'
            f'{PipelineSeries.ROWS_WRITTEN}{{table="events"}} {written - 1}\n'
            f'{PipelineSeries.ROWS_WRITTEN}{{table="dead_letters"}} 1\n'
        )

    return read_metrics


def test_it_waits_for_the_rows_still_held_and_for_reads_to_stop() -> None:
    fake = FakeTime()
    result = wait_until_written(
        "http://pipeline/metrics",
        # reading on; then all read but a batch still held; then written and quiet
        read_metrics=pipeline_metrics(*[(100, 50)] * 2, *[(140, 90)] * 4, (140, 140)),
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert result.drained and (result.read, result.written) == (140, 140)
    assert 1.0 <= result.seconds <= 3.0  # the quiet second after the last new read
    assert "wrote every message it read (140)" in result.describe()


def test_it_gives_up_after_the_timeout_and_says_what_is_lost() -> None:
    fake = FakeTime()
    result = wait_until_written(
        "http://pipeline/metrics",
        timeout=10,
        read_metrics=pipeline_metrics((500, 200)),
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert not result.drained and fake.now >= 10
    assert "200 rows of 500 messages read" in result.describe()


def test_a_pipeline_that_no_longer_answers_is_not_waited_for() -> None:
    def gone(url: str) -> Samples:
        raise ScrapeFailed("connection refused")

    result = wait_until_written("http://pipeline/metrics", read_metrics=gone)
    assert not result.drained and "connection refused" in result.describe()


def test_a_start_waits_for_ports_a_previous_run_still_holds() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = f"127.0.0.1:{held.getsockname()[1]}"
        waited: list[list[str]] = []
        assert wait_until_released([busy], timeout=0.3, on_wait=waited.append) == [busy]
        assert waited == [[busy]]
    assert wait_until_released([busy], timeout=0.3) == []


def test_every_port_of_the_stack_is_waited_for(tmp_path) -> None:
    settings = local_settings(tmp_path, api_host="0.0.0.0", api_port=8123)
    ports = local_ports(settings)
    assert "127.0.0.1:8123" in ports and "127.0.0.1:9465" in ports and "127.0.0.1:9464" in ports
    assert {"127.0.0.1:8085", "127.0.0.1:9050", "127.0.0.1:9060"} <= set(ports)
    off = local_settings(tmp_path, source_metrics_port=0, pipeline_metrics_port=0)
    assert len(local_ports(off)) == 4
