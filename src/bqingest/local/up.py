"""``bqingest up``: the whole system on one machine, until Ctrl-C.

Starts both emulators, bootstraps every resource, starts the services of
:func:`bqingest.local.services.local_services`, prints the endpoints and the ``export`` lines
other tools need, then watches the processes while showing live counts (published, ingested,
dead-lettered: :mod:`bqingest.local.display`). Ctrl-C or SIGTERM stops everything; if any process
dies on its own, ``up`` says which, shows the end of its log, stops the rest and exits 1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from rich.console import Console
from rich.table import Table

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.local.display import LiveCounts
from bqingest.local.errors import StartupFailed
from bqingest.local.processes import ManagedProcess
from bqingest.local.services import Service, local_services
from bqingest.local.stack import LocalStack


class _Shutdown(Exception):
    """Raised in the main thread by SIGTERM, so it unwinds like Ctrl-C."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Shutdown

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def export_lines(settings: LocalSettings) -> list[str]:
    """Shell lines that point other tools (and other shells) at this local stack."""
    return [
        f"export PUBSUB_EMULATOR_HOST={settings.pubsub_emulator_host}",
        f"export PUBSUB_PROJECT_ID={settings.project}",
        f"export BQINGEST_PROJECT={settings.project}",
        f"export BQINGEST_PUBSUB_EMULATOR_HOST={settings.pubsub_emulator_host}",
        f"export BQINGEST_BIGQUERY_EMULATOR_HOST={settings.bigquery_emulator_host}",
        f"export BQINGEST_BIGQUERY_EMULATOR_GRPC_HOST={settings.bigquery_emulator_grpc_host}",
    ]


def _endpoint_table(settings: LocalSettings, services: list[Service]) -> Table:
    table = Table(title="bqingest local stack", show_header=True, header_style="bold")
    table.add_column("part")
    table.add_column("endpoint")
    table.add_row("Pub/Sub emulator", str(settings.pubsub_emulator_host))
    table.add_row("BigQuery emulator (REST)", f"http://{settings.bigquery_emulator_host}")
    table.add_row("BigQuery emulator (Storage API gRPC)", str(settings.bigquery_emulator_grpc_host))
    table.add_row("topic", settings.topic_path)
    table.add_row("subscription", settings.subscription_path)
    table.add_row("events (de-duplicated view)", settings.dedup_view_id)
    table.add_row("dead letters", settings.dead_letter_table_id)
    for service in services:
        table.add_row(service.name, service.endpoint or "running")
    return table


def run(settings: LocalSettings, *, console: Console, poll_seconds: float = 1.0) -> int:
    """Run the local system until interrupted. Returns the process exit code."""
    stack = LocalStack(settings)
    processes: list[ManagedProcess] = []
    started = time.monotonic()
    with _sigterm_raises():
        try:
            with console.status("Starting the Pub/Sub emulator and the BigQuery emulator..."):
                times = stack.start()
            console.print(
                f"[green]✓[/] emulators ready (Pub/Sub {times.pubsub:.1f}s, "
                f"BigQuery {times.bigquery:.1f}s)"
            )
            with console.status("Creating topics, subscriptions, dataset, tables and view..."):
                endpoints = settings.endpoints
                report = bootstrap(
                    settings,
                    bigquery_client=clients.bigquery_client(endpoints),
                    publisher=clients.publisher_client(endpoints),
                    subscriber=clients.subscriber_client(endpoints),
                )
            console.print(
                f"[green]✓[/] bootstrap: {len(report.created)} created, "
                f"{len(report.updated)} updated, {len(report.unchanged)} already in place"
            )
            services = local_services(settings)
            for service in services:
                process = ManagedProcess(
                    service.name,
                    service.argv,
                    log_path=stack.log_dir / f"{service.name.lower().replace(' ', '-')}.log",
                    env={**os.environ, **service.env} if service.env else None,
                )
                process.start()
                processes.append(process)
                if service.ready is not None:
                    with console.status(f"Starting {service.name}..."):
                        process.wait_ready(service.ready, timeout=settings.startup_timeout_seconds)
                console.print(f"[green]✓[/] {service.name} running")
            console.print(_endpoint_table(settings, services))
            console.print("Other shells and tools reach this stack with:")
            for line in export_lines(settings):
                console.print(f"  {line}", highlight=False, soft_wrap=True)
            console.print(
                f"[bold]Up in {time.monotonic() - started:.1f}s.[/] Logs: {stack.log_dir}. "
                "Press Ctrl-C to stop."
            )
            watched = [
                p for p in (stack.pubsub.process, stack.bigquery.process) if p is not None
            ] + processes
            with LiveCounts(settings, console) as live_counts:
                while True:
                    for process in watched:
                        if not process.running():
                            raise StartupFailed(
                                f"{process.name} exited with code {process.returncode()}; "
                                f"last output ({process.log_path}):\n{process.log_tail()}"
                            )
                    live_counts.refresh()
                    time.sleep(poll_seconds)
        except (KeyboardInterrupt, _Shutdown):
            console.print("Stopping...")
            return 0
        finally:
            for process in reversed(processes):
                process.stop()
            stack.stop()
            console.print("[green]✓[/] stopped: no process left running")
