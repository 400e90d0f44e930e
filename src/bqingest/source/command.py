"""``bqingest source``: the scheduled source (or load mode) with the ledger, until stopped."""

from __future__ import annotations

import contextlib
import signal
import threading
import uuid
from collections.abc import Iterator
from types import FrameType

from rich.console import Console

from bqingest import clients
from bqingest.config import SourceSettings
from bqingest.source.generator import EventGenerator
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.source.metrics import build_metrics
from bqingest.source.publisher import BATCH_SETTINGS, SourcePublisher
from bqingest.source.schedule import run_load, run_scheduled
from bqingest.telemetry import metrics_url, serve


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: the batch in progress finishes and gets recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(
    settings: SourceSettings,
    *,
    every: float | None,
    batch_size: int | None,
    seed: int | None,
    rate: float | None,
    count: int | None,
    malformed_fraction: float | None,
    duplicate_fraction: float | None,
    batches: int | None,
    console: Console,
) -> int:
    """Run the source; return 1 if any message could not be published."""
    generator = EventGenerator(
        seed=seed if seed is not None else settings.source_seed,
        malformed_fraction=(
            malformed_fraction
            if malformed_fraction is not None
            else settings.source_malformed_fraction
        ),
        duplicate_fraction=(
            duplicate_fraction
            if duplicate_fraction is not None
            else settings.source_duplicate_fraction
        ),
        max_message_bytes=settings.max_message_bytes,
        coupon_from=settings.source_coupon_from,
    )
    run_id = f"{generator.run_tag}-{uuid.uuid4().hex[:8]}"
    stop = threading.Event()
    client = clients.publisher_client(settings.endpoints, batch_settings=BATCH_SETTINGS)
    # Under the emulator, message ids are recorded qualified with its boot (bqingest.clients).
    boot = clients.pubsub_emulator_boot(settings.endpoints, publisher=client)

    def report(line: str) -> None:
        console.print(line, highlight=False)

    metrics = build_metrics()
    port = settings.source_metrics_port
    server = (
        serve(
            metrics.registry,
            host=settings.metrics_host,
            port=port,
            variable="BQINGEST_SOURCE_METRICS_PORT",
        )
        if port
        else None
    )
    with Ledger(ledger_path(settings)) as ledger, _stop_on_signals(stop):
        publisher = SourcePublisher(
            client, settings.topic_path, ledger, run_id=run_id, pubsub_boot=boot, metrics=metrics
        )
        report(f"source {run_id} publishing to {settings.topic_path}; ledger {ledger.path}")
        if boot is not None:
            report(f"Pub/Sub emulator boot {boot}: message ids recorded as {boot}-<id>")
        if server is not None:
            report(f"metrics at {metrics_url(settings.metrics_host, server.server_port)}")
        try:
            if rate is not None and count is not None:
                total = run_load(
                    publisher, generator, rate=rate, count=count, stop=stop, report=report
                )
            else:
                total = run_scheduled(
                    publisher,
                    generator,
                    every=every if every is not None else settings.source_every_seconds,
                    batch_size=batch_size if batch_size is not None else settings.source_batch_size,
                    stop=stop,
                    report=report,
                    batches=batches,
                )
        finally:
            client.stop()
            if server is not None:
                server.shutdown()
                server.server_close()
    if total.failed:
        console.print(
            f"[red]error:[/] {len(total.failed)} message(s) were not published "
            f"(recorded in the ledger's publish_failures); first: {total.failed[0].error}",
            highlight=False,
        )
        return 1
    return 0
