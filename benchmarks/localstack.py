"""A throwaway local stack (both emulators on free ports, resources bootstrapped) for benchmarks."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from google.cloud import bigquery
from tests.support import free_port

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.local.stack import LocalStack
from bqingest.pipeline.command import pipeline_argv
from bqingest.warehouse import query as warehouse

VARIANTS = (
    ("bqemulator without time travel (bqingest's default)", False),
    ("bqemulator with time travel (its own default: a table copy per write)", True),
)
"""Each local benchmark runs twice: with time travel the emulator's per-append cost grows with the
table (see bqingest.local.bqemulator_main)."""


@contextlib.contextmanager
def local_stack(*, time_travel: bool = False) -> Iterator[LocalSettings]:
    """Both emulators on free ports with resources bootstrapped."""
    with tempfile.TemporaryDirectory(prefix="bqingest-bench-") as tmp:
        settings = LocalSettings(  # type: ignore[call-arg]
            _env_file=None,
            project="bqingest-bench",
            data_dir=Path(tmp),
            pubsub_emulator_host=f"127.0.0.1:{free_port()}",
            bigquery_emulator_host=f"127.0.0.1:{free_port()}",
            bigquery_emulator_grpc_host=f"127.0.0.1:{free_port()}",
            bigquery_emulator_time_travel=time_travel,
        )
        with LocalStack(settings):
            bootstrap(
                settings,
                bigquery_client=clients.bigquery_client(settings.endpoints),
                publisher=clients.publisher_client(settings.endpoints),
                subscriber=clients.subscriber_client(settings.endpoints),
            )
            yield settings


@contextlib.contextmanager
def our_pipeline(settings: LocalSettings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The real pipeline (``python -m bqingest.pipeline.main``) in a child process."""
    argv = [sys.executable, "-m", "bqingest.pipeline.main"]
    argv += pipeline_argv(settings, runner="BundleBasedDirectRunner")
    with log.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.kill()
            child.wait()


def count_events(bq: bigquery.Client, settings: LocalSettings) -> int:
    [row] = warehouse.query_all(bq, f"SELECT COUNT(*) AS n FROM `{settings.events_table_id}`")
    return int(row["n"])


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark: {what} did not happen within {timeout:.0f}s")
        time.sleep(0.2)
