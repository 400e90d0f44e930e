"""``bqingest status``: a live view of a running local stack, and a health verdict.

Reads what :mod:`bqingest.operations.readings` reads (every process's ``/metrics``, the Pub/Sub
emulator's port, the warehouse's counts) every ``interval`` seconds; rates are over the last
``window`` seconds. ``--once`` takes two readings ``interval`` seconds apart, prints one snapshot
and exits: 0 when every rule passes, 1 otherwise (the failed rules are printed).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from bqingest import clients
from bqingest.config import LocalSettings
from bqingest.operations.figures import Figures, figures
from bqingest.operations.readings import Endpoint, Reading, endpoints, take_reading
from bqingest.operations.rules import Check, Thresholds, checks

HEALTHY = 0
UNHEALTHY = 1


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}{unit}"
    return f"{value:,.2f}{unit}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def render(reading: Reading, seen: Figures, verdicts: list[Check], points: list[Endpoint]) -> Group:
    """The status as rich tables: stages, dead letters, API, health."""
    healthy = all(check.ok for check in verdicts)
    title = (
        f"bqingest status: {'[green]healthy[/]' if healthy else '[red]UNHEALTHY[/]'} "
        f"(rates over {seen.window:.0f}s)"
    )
    stages = Table(title=title, show_header=True, header_style="bold", title_justify="left")
    stages.add_column("stage")
    stages.add_column("since start", justify="right")
    stages.add_column("per second", justify="right")
    stages.add_column("warehouse / ledger", justify="right")
    stock = reading.warehouse
    published = seen.published
    stages.add_row(
        "source: published"
        + (
            " (" + ", ".join(f"{k} {_number(v)}" for k, v in sorted(published.items())) + ")"
            if published
            else ""
        ),
        _number(sum(published.values()) if published is not None else None),
        _number(seen.published_rate),
        f"{sum(stock.published.values()):,} in the ledger",
    )
    if seen.publish_failures:
        stages.add_row("[red]source: publish failures[/]", _number(seen.publish_failures), "", "")
    stages.add_row("API: published by POST", _number(seen.api_published), "", "")
    stages.add_row(
        "pipeline: read (acknowledged at pull)",
        _number(seen.read_live),
        _number(seen.read_rate),
        "",
    )
    if seen.read_replayed:
        stages.add_row(
            "pipeline: re-read (published before it started)", _number(seen.read_replayed), "", ""
        )
    stages.add_row("backlog: published - read", _number(seen.backlog), "", "")
    stages.add_row(
        "pipeline: parsed / rejected", f"{_number(seen.parsed)} / {_number(seen.rejected)}", "", ""
    )
    for table in ("events", "dead_letters"):
        warehouse_count = (
            f"{stock.event_ids:,} ids in {stock.events_rows:,} rows"
            if table == "events"
            else f"{sum(stock.dead_letters.values()):,} rows"
        )
        stages.add_row(
            f"written: {table}",
            _number((seen.written or {}).get(table)),
            _number((seen.written_rate or {}).get(table)),
            warehouse_count if not stock.error else "-",
        )
    stages.add_row("sink retries", _number(seen.sink_retries), "", "")
    stages.add_row(
        "freshness (publish -> written)",
        f"p95 {_seconds(seen.freshness_p95_since_start)}",
        f"p50 {_seconds(seen.freshness_p50)}, p95 {_seconds(seen.freshness_p95)}"
        if seen.freshness_p95 is not None
        else "no row in window",
        "",
    )

    letters = Table(
        title="dead letters", show_header=True, header_style="bold", title_justify="left"
    )
    letters.add_column("reason")
    letters.add_column("stage")
    letters.add_column("since start", justify="right")
    letters.add_column("in window", justify="right")
    letters.add_column("warehouse", justify="right")
    counted = seen.dead_letters or {}
    reasons = sorted({r for r, _ in counted} | set(stock.dead_letters))
    for reason in reasons:
        stages_seen = sorted({s for r, s in counted if r == reason}) or ["-"]
        for index, stage in enumerate(stages_seen):
            letters.add_row(
                reason,
                stage,
                _number(counted.get((reason, stage))),
                _number((seen.dead_letters_in_window or {}).get((reason, stage))),
                f"{stock.dead_letters.get(reason, 0):,}" if index == 0 else "",
            )
    if not reasons:
        letters.add_row("(none)", "", "0", "0", "0")

    api = Table(title="API", show_header=True, header_style="bold", title_justify="left")
    for column in ("requests/s", "p95 latency", "5xx share", "cache hit ratio"):
        api.add_column(column, justify="right")
    api.add_row(
        _number(seen.api_rps),
        _seconds(seen.api_p95),
        f"{seen.api_5xx:.1%}" if seen.api_5xx is not None else "-",
        f"{seen.api_cache_hit_ratio:.1%}" if seen.api_cache_hit_ratio is not None else "-",
    )

    health = Table(title="health", show_header=True, header_style="bold", title_justify="left")
    health.add_column("rule")
    health.add_column("")
    health.add_column("detail")
    for check in verdicts:
        health.add_row(check.rule, "[green]ok[/]" if check.ok else "[red]FAILED[/]", check.detail)
    sources = Table.grid(padding=(0, 2))
    for point in points:
        state = "[red]down[/]" if point.name in reading.errors else "[green]up[/]"
        sources.add_row(point.name, point.url, state)
    return Group(stages, letters, api, health, sources)


def exit_code(verdicts: list[Check]) -> int:
    return HEALTHY if all(check.ok for check in verdicts) else UNHEALTHY


def run(
    settings: LocalSettings,
    *,
    console: Console,
    once: bool,
    interval: float,
    window: float,
    thresholds: Thresholds,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Show the status (once, or until Ctrl-C); return the exit code of the last verdict."""
    points = endpoints(settings)
    bq = clients.bigquery_client(settings.endpoints)
    try:
        history: deque[Reading] = deque([take_reading(settings, bq, points)])
        if once:
            sleep(interval)
            history.append(take_reading(settings, bq, points))
            verdicts = checks(history[0], history[-1], thresholds)
            console.print(render(history[-1], figures(history[0], history[-1]), verdicts, points))
            for check in verdicts:
                if not check.ok:
                    console.print(
                        f"[red]unhealthy:[/] {check.rule}: {check.detail}", highlight=False
                    )
            return exit_code(verdicts)
        verdicts = []
        with Live(console=console, auto_refresh=False) as live:
            try:
                while True:
                    sleep(interval)
                    latest = take_reading(settings, bq, points)
                    history.append(latest)
                    while len(history) > 2 and latest.at - history[1].at >= window:
                        history.popleft()
                    verdicts = checks(history[0], latest, thresholds)
                    live.update(
                        render(latest, figures(history[0], latest), verdicts, points), refresh=True
                    )
            except KeyboardInterrupt:
                pass
        return exit_code(verdicts)
    finally:
        bq.close()  # type: ignore[no-untyped-call]
