"""``bqingest up``: the whole system on one machine, until Ctrl-C.

Starts both emulators, bootstraps every resource, starts the services of
:func:`bqingest.local.services.local_services`, prints the endpoints and the ``export`` lines
other tools need, then watches the processes while showing live counts (published, ingested,
dead-lettered: :mod:`bqingest.local.display`). Ctrl-C or SIGTERM stops everything: first what
publishes, then the pipeline once it has written what it read (:mod:`bqingest.local.drain`),
then the emulators; a second Ctrl-C stops at once. If any process dies on its own, ``up`` says
which, shows the end of its log, stops the rest and exits 1.

Every run of a checkout uses the same data directory: the warehouse and the source's ledger
carry over from run to run, the Pub/Sub emulator starts empty (docs/local.md). ``--fresh``
removes the previous runs' state first (:mod:`bqingest.local.fresh`).
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
from bqingest.local.drain import wait_until_written
from bqingest.local.errors import StartupFailed
from bqingest.local.fresh import clean_slate
from bqingest.local.processes import ManagedProcess
from bqingest.local.services import Service, local_services
from bqingest.local.stack import LocalStack, wait_until_released
from bqingest.telemetry import metrics_url, reachable_host

NO_METRICS_WAIT_SECONDS = 3.0
"""Without the pipeline's metrics, how long a stop gives it to write what it holds."""


class _Shutdown(BaseException):
    """Raised in the main thread by SIGTERM or SIGHUP, so it unwinds like Ctrl-C.

    A ``BaseException`` like ``KeyboardInterrupt``: a signal, not an error, so no ``except
    Exception`` on the way up can swallow it, and it stays outside bqingest's error tree.
    """


# SIGHUP: the terminal `make run` runs in was closed. Stopping in order beats being killed.
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Shutdown

    previous = {sig: signal.signal(sig, handler) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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


def local_ports(settings: LocalSettings) -> list[str]:
    """Every host:port the stack listens on (emulators, API, metrics)."""
    ports = [
        settings.pubsub_emulator_host,
        settings.bigquery_emulator_host,
        settings.bigquery_emulator_grpc_host,
        f"{reachable_host(settings.api_host)}:{settings.api_port}",
    ]
    for port in (settings.local_source_metrics_port, settings.local_pipeline_metrics_port):
        if port:
            ports.append(f"{reachable_host(settings.metrics_host)}:{port}")
    return [p for p in ports if p is not None]


def stop_publishers_then_drain(
    settings: LocalSettings,
    running: list[tuple[Service, ManagedProcess]],
    console: Console,
) -> None:
    """Stop what publishes, then wait until the pipeline has written what it read."""
    for service, process in reversed(running):
        if service.publishes:
            process.stop()
    if not any(service.name == "pipeline" and p.running() for service, p in running):
        return
    port = settings.local_pipeline_metrics_port
    try:
        if not port:
            with console.status("Giving the pipeline time to write what it holds..."):
                time.sleep(NO_METRICS_WAIT_SECONDS)
            return
        with console.status(
            "Waiting for the pipeline to write what it has read (Ctrl-C again to stop now)..."
        ):
            drain = wait_until_written(metrics_url(settings.metrics_host, port))
    except (KeyboardInterrupt, _Shutdown):
        console.print("[yellow]![/] stopping now: what the pipeline still held is lost")
        return
    mark = "[green]✓[/]" if drain.drained else "[yellow]![/]"
    console.print(f"{mark} {drain.describe()}", highlight=False)


def run(
    settings: LocalSettings, *, console: Console, poll_seconds: float = 1.0, fresh: bool = False
) -> int:
    """Run the local system until interrupted. Returns the process exit code.

    ``fresh``: first remove the warehouse, the ledger and the logs of previous runs.
    """
    wait_until_released(
        local_ports(settings),
        on_wait=lambda busy: console.print(
            f"Waiting for {', '.join(busy)} to be released (a previous run still stopping?)",
            highlight=False,
        ),
    )
    if fresh:
        clean_slate(settings, console)
    stack = LocalStack(settings)
    processes: list[ManagedProcess] = []
    running: list[tuple[Service, ManagedProcess]] = []
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
            boot = clients.pubsub_emulator_boot(endpoints)
            console.print(
                f"[green]✓[/] Pub/Sub emulator boot {boot}: this run's message ids are "
                f"recorded as {boot}-<id>",
                highlight=False,
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
                running.append((service, process))
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
            stop_publishers_then_drain(settings, running, console)
            return 0
        finally:
            for process in reversed(processes):
                process.stop()
            stack.stop()
            console.print("[green]✓[/] stopped: no process left running")
