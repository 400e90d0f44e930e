"""How ``bqingest reconcile`` prints a :class:`~bqingest.operations.reconcile.Report`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bqingest.operations.reconcile import Report


def render(report: Report, console: Console) -> None:
    """A table of the counts, the SLI, then the ids (at most the listed ones)."""
    verdict = (
        "[green]nothing missing[/]" if report.ok else f"[red]{report.missing_count} missing[/]"
    )
    table = Table(
        title=f"reconcile {report.since.isoformat()} .. {report.until.isoformat()}: {verdict}",
        show_header=True,
        header_style="bold",
        title_justify="left",
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind, count in report.published.items():
        table.add_row(f"published: {kind}", f"{count:,}")
    if report.valid_event_ids is not None:
        table.add_row("valid event ids published", f"{report.valid_event_ids:,}")
        table.add_row("  ingested (visible in events_dedup)", f"{report.ingested:,}")
    else:
        table.add_row("messages written to events", f"{report.ingested:,}")
    for reason, count in sorted(report.dead_lettered.items()):
        table.add_row(f"  dead-lettered: {reason}", f"{count:,}")
    if report.mode == "ledger":
        table.add_row("malformed, dead-lettered as expected", f"{report.malformed_dead_lettered:,}")
        if report.malformed_other_reason:
            table.add_row(
                "[yellow]malformed, other reason[/]", f"{len(report.malformed_other_reason):,}"
            )
    table.add_row(
        "[red]missing[/]" if report.missing_count else "missing", f"{report.missing_count:,}"
    )
    table.add_row("unexpected (not published by the source)", f"{report.unexpected_count:,}")
    if report.unexpected_dead_letters:
        table.add_row("unexpected dead letters", f"{report.unexpected_dead_letters:,}")
    sli = f"{report.sli:.4%}" if report.sli is not None else "n/a (nothing published)"
    table.add_row("processing-correctness SLI", sli)
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    if report.missing_ids:
        more = report.missing_count - len(report.missing_ids)
        console.print(
            "missing: " + ", ".join(report.missing_ids) + (f" (and {more} more)" if more else ""),
            highlight=False,
            soft_wrap=True,
        )
    if report.unexpected_ids:
        more = report.unexpected_count - len(report.unexpected_ids)
        console.print(
            "unexpected: "
            + ", ".join(report.unexpected_ids)
            + (f" (and {more} more)" if more else ""),
            highlight=False,
            soft_wrap=True,
        )
    for message_id, detail in sorted(report.malformed_other_reason.items()):
        console.print(
            f"malformed {message_id}: expected {detail['expected']}, got {detail['got']}",
            highlight=False,
        )
