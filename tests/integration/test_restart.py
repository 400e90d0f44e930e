"""`make run`, stop, `make run` again: the same data directory serves every run.

The Pub/Sub emulator keeps everything in memory and numbers its messages from 1 again after every
start, while the warehouse and the source's ledger persist in the data directory. These tests run
`bqingest up` (what `make run` runs) several times on one data directory, stopped with Ctrl-C or
killed with SIGKILL, and check what a user would: each run comes up, what was ingested before is
still served, the ledger, the warehouse and `bqingest reconcile` agree across runs, a run stopped
right after publishing loses nothing, and `bqingest up --fresh` starts from nothing.

The source's seed is the same in every run, so each run publishes the same kinds of messages in
the same order and the emulator gives them the same message ids: whatever is keyed by message id
collides across runs unless the system tells runs apart.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.cloud import bigquery

from bqingest import clients
from bqingest.config import LocalSettings
from bqingest.operations import reconcile
from bqingest.source.generator import SCHEDULER_TICK
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.warehouse import query as warehouse
from bqingest.warehouse.totals import totals
from tests.integration.conftest import stack_settings
from tests.integration.ingestion import everything_arrived, settings_env, wait_until
from tests.support import free_port
from tests.unit.local.test_processes import wait_gone

BATCH = 60  # one batch per run (the next one would come after an hour)


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]


@pytest.fixture
def settings(tmp_path: Path) -> LocalSettings:
    """One data directory and one set of ports for every run of a test, as in a checkout."""
    return stack_settings(tmp_path / "checkout").model_copy(
        update={
            "api_port": free_port(),
            "source_metrics_port": free_port(),
            "pipeline_metrics_port": free_port(),
            "source_seed": 7,
            "source_batch_size": BATCH,
            "source_every_seconds": 3600.0,
            "source_malformed_fraction": 0.1,
            "source_duplicate_fraction": 0.05,
        }
    )


class Up:
    """One `bqingest up` in a child process, its output collected as it goes."""

    def __init__(self, settings: LocalSettings, cwd: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bqingest", "up", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**settings_env(settings), "COLUMNS": "200"},
            cwd=cwd,
        )
        self.lines: list[str] = []

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if "Press Ctrl-C to stop" in line:
                return
        raise AssertionError(f"`bqingest up` exited before it was up:\n{self.output}")

    def interrupt(self) -> None:
        """Ctrl-C, and wait for `up` to stop everything."""
        self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=120)
        self.lines.append(rest)
        assert self.process.returncode == 0, self.output
        assert "no process left running" in rest, self.output

    def kill(self) -> dict[int, str]:
        """SIGKILL `up` alone (its children learn it from the kernel); return their command
        lines by pid."""
        children = {pid: _command_line(pid) for pid in _children_of(self.process.pid)}
        self.process.kill()
        self.process.wait(timeout=30)
        self.close()
        return children

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[list[Up]]:
    started: list[Up] = []
    yield started
    for up in started:
        up.close()


def start(settings: LocalSettings, runs: list[Up], cwd: Path, *args: str) -> Up:
    up = Up(settings, cwd, *args)
    runs.append(up)
    up.wait_ready()
    return up


def wait_for_the_source(settings: LocalSettings, published: int) -> None:
    """Until the ledger holds ``published`` messages."""

    def recorded() -> bool:
        with Ledger(ledger_path(settings)) as ledger:
            return sum(ledger.counts().values()) >= published

    wait_until(recorded, interval=0.1, what=f"the source to record {published} messages")


def wait_for_the_ledger(settings: LocalSettings, bq: bigquery.Client, published: int) -> None:
    """Until the source recorded ``published`` messages and every one of them arrived."""
    wait_for_the_source(settings, published)
    wait_until(everything_arrived(bq, settings), what="every published message to arrive")


def api_serves(settings: LocalSettings, event_id: str) -> bool:
    url = f"http://127.0.0.1:{settings.api_port}/api/v1/{event_id}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return bool(response.status == 200 and json.load(response)["event"]["id"] == event_id)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def assert_runs_told_apart(settings: LocalSettings, bq: bigquery.Client, since: datetime) -> None:
    """Ledger, warehouse and reconcile agree: every message of every run is accounted for once."""
    with Ledger(ledger_path(settings)) as ledger:
        entries = ledger.entries()
        malformed = ledger.counts()[MessageKind.MALFORMED]
    assert len({e.message_id for e in entries}) == len(entries), "a message id repeats"
    # Scheduler ticks take their event id from the message id: one id per tick, in every run.
    ticks = [e for e in entries if e.event_type == SCHEDULER_TICK]
    assert ticks, "the seed publishes scheduler ticks"
    assert len({t.event_id for t in ticks}) == len(ticks), "two ticks share an event id"
    ids = [t.event_id for t in ticks]
    shown = warehouse.query_all(
        bq,
        f"SELECT id, message_id FROM `{settings.dedup_view_id}` WHERE id IN UNNEST(@ids)",
        parameters=[bigquery.ArrayQueryParameter("ids", "STRING", ids)],
    )
    assert {(row["id"], row["message_id"]) for row in shown} == {
        (t.event_id, t.message_id) for t in ticks
    }, "a tick is shown with another run's row"
    # Every malformed message of every run is one dead letter of its own.
    held = totals(
        bq,
        events_table=settings.events_table_id,
        dead_letter_table=settings.dead_letter_table_id,
    )
    assert sum(held.dead_letters.values()) == malformed
    report = reconcile.run(
        settings, bq, since=since.isoformat(), until=None, grace=0, now=datetime.now(UTC)
    )
    assert report.ok, report.to_json()
    assert report.unexpected_count == 0 and report.unexpected_dead_letters == 0, report.to_json()
    assert report.malformed_dead_lettered == malformed, report.to_json()
    assert report.sli == 1.0


def first_valid_id(settings: LocalSettings) -> str:
    with Ledger(ledger_path(settings)) as ledger:
        [entry, *_] = ledger.entries(kind=MessageKind.VALID)
    assert entry.event_id is not None
    return entry.event_id


def test_make_run_again_and_again_after_ctrl_c(
    settings: LocalSettings, runs: list[Up], tmp_path: Path
) -> None:
    bq = clients.bigquery_client(settings.endpoints)
    since = datetime.now(UTC)
    up = start(settings, runs, tmp_path)
    wait_for_the_ledger(settings, bq, BATCH)
    served_before = first_valid_id(settings)
    up.interrupt()

    # Run 2 is stopped as soon as its batch is published: the stop waits for the pipeline to
    # write what it holds, since the emulator takes everything else with it. Run 3 checks that
    # nothing of run 2 was lost.
    up = start(settings, runs, tmp_path)
    wait_for_the_source(settings, 2 * BATCH)
    up.interrupt()
    assert "the pipeline wrote every message it read" in up.output, up.output

    up = start(settings, runs, tmp_path)
    wait_for_the_ledger(settings, bq, 3 * BATCH)
    assert api_serves(settings, served_before), "an event of run 1 is no longer served"
    assert_runs_told_apart(settings, bq, since)
    up.interrupt()

    # A clean slate: the previous runs' warehouse, ledger and logs are gone, and said so. (The
    # same seed publishes the same events again, so ids repeat; their rows are this run's.)
    up = start(settings, runs, tmp_path, "--fresh")
    assert "Starting afresh: removing from" in up.output and "the warehouse" in up.output
    wait_for_the_ledger(settings, bq, BATCH)
    with Ledger(ledger_path(settings)) as ledger:
        assert sum(ledger.counts().values()) == BATCH
        boot = ledger.latest_boot()
    assert boot is not None
    for table in (settings.events_table_id, settings.dead_letter_table_id):
        rows = warehouse.query_all(bq, f"SELECT message_id FROM `{table}`")
        assert rows and all(row["message_id"].startswith(f"{boot}-") for row in rows), table
    up.interrupt()


def test_make_run_after_the_previous_one_was_killed(
    settings: LocalSettings, runs: list[Up], tmp_path: Path
) -> None:
    bq = clients.bigquery_client(settings.endpoints)
    since = datetime.now(UTC)
    first = start(settings, runs, tmp_path)
    wait_for_the_ledger(settings, bq, BATCH)
    served_before = first_valid_id(settings)
    orphans = first.kill()
    assert len(orphans) == 5  # two emulators, the pipeline, the source, the API

    # Straight away, as a user would: the killed run's processes may still be on their way out.
    second = start(settings, runs, tmp_path)
    left = {pid: line for pid, line in orphans.items() if not wait_gone(pid)}
    assert not left, f"processes of the killed run still running: {left}"
    wait_for_the_ledger(settings, bq, 2 * BATCH)
    assert api_serves(settings, served_before)
    assert_runs_told_apart(settings, bq, since)
    second.interrupt()
