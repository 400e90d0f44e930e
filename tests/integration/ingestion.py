"""Helpers for tests that run the source and the pipeline against the real emulators.

Correctness is always checked by reading the warehouse (never Beam's counters, which
under-report on the local runner), and every wait is on a condition with a generous deadline.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from google.cloud import bigquery

from bqingest import clients
from bqingest.config import LocalSettings
from bqingest.local.processes import ManagedProcess
from bqingest.local.services import bqingest_command
from bqingest.source.generator import EventGenerator
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.source.publisher import BATCH_SETTINGS, PublishReport, SourcePublisher
from bqingest.source.schedule import run_load
from bqingest.warehouse import query as warehouse

# Generous: a loaded 2-core machine runs this pipeline at well under its idle speed.
DEADLINE = 240.0


def wait_until(
    condition: Callable[[], bool], *, timeout: float = DEADLINE, interval: float = 1.0, what: str
) -> float:
    """Poll ``condition`` until true; return the seconds it took; fail with ``what`` otherwise."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def settings_env(settings: LocalSettings) -> dict[str, str]:
    """Environment that makes a bqingest child process use ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BQINGEST_")}
    return {**env, **settings.as_environment()}


class PipelineProcess:
    """``bqingest pipeline`` as a child process (its own process group, log in ``log_path``)."""

    def __init__(self, settings: LocalSettings, log_path: Path) -> None:
        self._process = ManagedProcess(
            "pipeline", bqingest_command("pipeline"), log_path=log_path, env=settings_env(settings)
        )
        self.log_path = log_path

    def start(self) -> None:
        self._process.start()

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no flush, like a crash."""
        pid = self._process.pid
        assert pid is not None and self._process.running(), self._process.log_tail()
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not self._process.running(), timeout=30, interval=0.1, what="the kill")

    def stop(self) -> None:
        self._process.stop()

    def assert_running(self) -> None:
        assert self._process.running(), f"pipeline exited:\n{self._process.log_tail(40)}"

    def log_tail(self) -> str:
        return self._process.log_tail(40)


@dataclass
class Load:
    """A source publishing in a background thread, recording to the ledger."""

    thread: threading.Thread
    report: PublishReport
    stop: threading.Event

    def wait(self, timeout: float = DEADLINE) -> PublishReport:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the source did not finish publishing"
        return self.report


def start_load(
    settings: LocalSettings,
    *,
    rate: float,
    count: int,
    seed: int,
    malformed_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
) -> Load:
    """Publish ``count`` messages at ``rate``/s from a thread, like ``bqingest source --rate``."""
    generator = EventGenerator(
        seed=seed,
        malformed_fraction=malformed_fraction,
        duplicate_fraction=duplicate_fraction,
        max_message_bytes=settings.max_message_bytes,
    )
    report = PublishReport()
    stop = threading.Event()

    def publish() -> None:
        client = clients.publisher_client(settings.endpoints, batch_settings=BATCH_SETTINGS)
        boot = clients.pubsub_emulator_boot(settings.endpoints, publisher=client)
        with Ledger(ledger_path(settings)) as ledger:
            publisher = SourcePublisher(
                client, settings.topic_path, ledger, run_id=f"test-{seed}", pubsub_boot=boot
            )
            report.merge(
                run_load(
                    publisher,
                    generator,
                    rate=rate,
                    count=count,
                    stop=stop,
                    report=lambda line: None,
                )
            )
        client.stop()

    thread = threading.Thread(target=publish, name="source", daemon=True)
    thread.start()
    return Load(thread, report, stop)


def count_rows(bq: bigquery.Client, table: str) -> int:
    [row] = warehouse.query_all(bq, f"SELECT COUNT(*) AS n FROM `{table}`")
    return int(row["n"])


def written(bq: bigquery.Client, settings: LocalSettings) -> int:
    """Rows in events plus rows in dead_letters (what the pipeline has written so far)."""
    return count_rows(bq, settings.events_table_id) + count_rows(bq, settings.dead_letter_table_id)


@dataclass
class WarehouseState:
    """What the warehouse holds, as the checks need it."""

    dedup_ids: list[str]
    events_rows: int
    dead_letters: dict[str, set[str]]  # message id -> reasons seen (one, if all is well)
    dead_letter_rows: int


def read_state(bq: bigquery.Client, settings: LocalSettings) -> WarehouseState:
    dedup = warehouse.query_all(bq, f"SELECT id FROM `{settings.dedup_view_id}`")
    letters = warehouse.query_all(
        bq, f"SELECT message_id, reason FROM `{settings.dead_letter_table_id}`"
    )
    by_message: dict[str, set[str]] = {}
    for row in letters:
        by_message.setdefault(row["message_id"], set()).add(row["reason"])
    return WarehouseState(
        dedup_ids=[row["id"] for row in dedup],
        events_rows=count_rows(bq, settings.events_table_id),
        dead_letters=by_message,
        dead_letter_rows=len(letters),
    )


def everything_arrived(bq: bigquery.Client, settings: LocalSettings) -> Callable[[], bool]:
    """Condition: every id in the ledger is visible and every malformed message dead-lettered."""
    with Ledger(ledger_path(settings)) as ledger:
        expected_ids = ledger.expected_event_ids()
        expected_dead = set(ledger.expected_dead_letters())

    def check() -> bool:
        state = read_state(bq, settings)
        return expected_ids <= set(state.dedup_ids) and expected_dead <= set(state.dead_letters)

    return check


def assert_exactly_the_ledger(bq: bigquery.Client, settings: LocalSettings) -> WarehouseState:
    """The warehouse holds exactly what the ledger says was published: nothing lost, no extra,
    no id visible twice, and each malformed message dead-lettered with its expected reason."""
    with Ledger(ledger_path(settings)) as ledger:
        expected_ids = ledger.expected_event_ids()
        expected_dead = ledger.expected_dead_letters()
        counts = ledger.counts()
    state = read_state(bq, settings)
    visible = state.dedup_ids
    assert len(visible) == len(set(visible)), "an id is visible twice through events_dedup"
    missing = expected_ids - set(visible)
    extra = set(visible) - expected_ids
    assert not missing, f"{len(missing)} published ids never arrived, e.g. {sorted(missing)[:5]}"
    assert not extra, f"{len(extra)} ids nobody published, e.g. {sorted(extra)[:5]}"
    assert set(state.dead_letters) == set(expected_dead), (
        f"dead letters differ: missing {set(expected_dead) - set(state.dead_letters)}, "
        f"unexpected {set(state.dead_letters) - set(expected_dead)}"
    )
    wrong = {
        message_id: (reason.value, state.dead_letters[message_id])
        for message_id, reason in expected_dead.items()
        if state.dead_letters[message_id] != {reason.value}
    }
    assert not wrong, f"dead letters with the wrong reason (expected, got): {wrong}"
    assert sum(counts.values()) > 0
    return state
