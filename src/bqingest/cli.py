"""The ``bqingest`` command line.

Every command reads its settings group (``BQINGEST_*`` variables or ``.env``; see
:mod:`bqingest.config`). Expected failures (a missing prerequisite, a busy port, an invalid
setting, a resource in the wrong shape: any :class:`bqingest.errors.BqingestError`, or pydantic's
``ValidationError`` for settings) print one ``error:`` line and exit 1; a stack trace means a bug.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import (
    ApiSettings,
    LocalSettings,
    OperationsSettings,
    PipelineSettings,
    SourceSettings,
    load,
)
from bqingest.contract import schema as table_schema
from bqingest.contract import typed_views
from bqingest.contract.registry import SchemaError, SchemaRegistry
from bqingest.errors import BqingestError

app = typer.Typer(
    name="bqingest",
    help="Stream CloudEvents from Pub/Sub through Apache Beam into BigQuery, and serve them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
schema_app = typer.Typer(help="The warehouse tables, as derived from the event contract.")
app.add_typer(schema_app, name="schema")
schemas_app = typer.Typer(
    help="The schema registry: one JSON Schema per event type and major version (docs/schemas.md)."
)
app.add_typer(schemas_app, name="schemas")
api_app = typer.Typer(
    help="Serve the read API (without a sub-command), or manage its API keys.",
    invoke_without_command=True,
)
app.add_typer(api_app, name="api")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@app.command()
def up(
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Start from an empty warehouse and ledger: first remove the previous runs' "
            "warehouse, source ledger and logs from the data directory (listed as they go).",
        ),
    ] = False,
) -> None:
    """Run the whole system locally (emulators, resources, services) until Ctrl-C.

    The warehouse and the source's ledger carry over from one run to the next (docs/local.md).
    """
    from bqingest.local import up as local_up

    raise typer.Exit(local_up.run(load(LocalSettings), console=console, fresh=fresh))


@app.command(name="bootstrap")
def bootstrap_command() -> None:
    """Create topics, subscriptions, dataset, tables and view; safe to run again."""
    settings = load(OperationsSettings)
    report = bootstrap(
        settings,
        bigquery_client=clients.bigquery_client(settings.endpoints),
        publisher=clients.publisher_client(settings.endpoints),
        subscriber=clients.subscriber_client(settings.endpoints),
    )
    for name in report.created:
        console.print(f"[green]created[/]   {name}")
    for name in report.updated:
        console.print(f"[yellow]updated[/]   {name}")
    for name in report.unchanged:
        console.print(f"[dim]unchanged[/] {name}")


@schema_app.command("export")
def schema_export(
    directory: Annotated[Path, typer.Argument(help="Where to write the schema files.")],
) -> None:
    """Write BigQuery JSON schema files (and the views' SQL templates) to DIRECTORY."""
    for path in table_schema.export(directory):
        console.print(f"wrote {path}")
    registry = SchemaRegistry.load(load(OperationsSettings).schemas_dir)
    for path in typed_views.export(directory / typed_views.TYPED_VIEWS_FOLDER, registry):
        console.print(f"wrote {path}")


@schemas_app.command("list")
def schemas_list() -> None:
    """Print every registered type and version with its view and typed columns, as JSON."""
    from bqingest.operations import schemas

    registry = SchemaRegistry.load(load(OperationsSettings).schemas_dir)
    console.print_json(json.dumps(schemas.describe(registry)))


@schemas_app.command("show")
def schemas_show(
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="The CloudEvents type.")],
    version: Annotated[
        int | None, typer.Option(help="Major version (default: the current one).")
    ] = None,
) -> None:
    """Print a type's JSON Schema."""
    registry = SchemaRegistry.load(load(OperationsSettings).schemas_dir)
    found = [s for s in registry.versions(event_type) if version in (None, s.major)]
    if not found:
        raise SchemaError(f"no schema for {event_type}" + (f" v{version}" if version else ""))
    console.print_json(json.dumps(found[-1].document))


@schemas_app.command("check")
def schemas_check(
    base: Annotated[
        str | None,
        typer.Option(
            help="A git ref (the target branch): fail on changes that need a new major version."
        ),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="The registry folder (default: BQINGEST_SCHEMAS_DIR or the shipped one)."
        ),
    ] = None,
) -> None:
    """Check the registry's rules and, with --base, its compatibility with a git ref."""
    from bqingest.operations import schemas

    report = schemas.check(folder or load(OperationsSettings).schemas_dir, base=base)
    for problem in report.problems:
        err_console.print(f"[red]✗[/] {problem}", highlight=False)
    if report.ok:
        against = f", compatible with {base}" if base else ""
        console.print(f"{report.schemas} schemas in {report.folder}: ok{against}")
    raise typer.Exit(0 if report.ok else 1)


@schema_app.command("show")
def schema_show() -> None:
    """Print the tables' columns, partitioning and clustering as JSON."""
    summary = [table_schema.describe(spec) for spec in table_schema.TABLES]
    console.print_json(json.dumps(summary))


@app.command(name="settings")
def settings_command() -> None:
    """Print the effective settings (every group) as the environment variables that set them."""
    for variable, value in load(LocalSettings).as_environment().items():
        console.print(f"{variable}={value}", highlight=False, soft_wrap=True)


@api_app.callback()
def api_serve(ctx: typer.Context) -> None:
    """Serve the API on BQINGEST_API_HOST:BQINGEST_API_PORT until Ctrl-C or SIGTERM."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from bqingest.api.main import create_app

    settings = load(ApiSettings)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # create_app sends every logger to stdout as JSON
            access_log=False,  # the app logs each request itself, with its trace
            server_header=False,
            timeout_graceful_shutdown=8,  # Cloud Run allows 10 s after SIGTERM
        )
    )
    server.run()
    if not server.started:
        raise typer.Exit(1)


@api_app.command("hash-key")
def api_hash_key(
    generate: Annotated[
        bool, typer.Option("--generate", help="Make a new random key and print it too.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Print a scoped key (JSON) with this name; else a bare digest."
        ),
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read or write (repeat for both).")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="A source it may publish as; 'prefix*' or '*' (repeat)."),
    ] = None,
) -> None:
    """Print the digest of an API key (read from stdin) for BQINGEST_API_KEYS."""
    import json

    from pydantic import ValidationError

    from bqingest.api.security import generate_api_key, hash_api_key
    from bqingest.config import ApiKeySpec

    if generate:
        key = generate_api_key()
        console.print(
            f"key (give it to the client, store it nowhere else): {key}",
            highlight=False,
            soft_wrap=True,
        )
    elif sys.stdin.isatty():
        key = typer.prompt("API key", hide_input=True)
    else:
        key = sys.stdin.readline().strip()
    try:
        digest = hash_api_key(key)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    if name is None:
        console.print(f"BQINGEST_API_KEYS={digest}", highlight=False, soft_wrap=True)
        return
    try:
        spec = ApiKeySpec(
            name=name, scopes=tuple(scope or ("read",)), sources=tuple(source or ()), digest=digest
        )
    except ValidationError as exc:
        err_console.print(f"error: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    entry = json.dumps(spec.model_dump(mode="json"))
    console.print(
        f"one entry of the JSON array in BQINGEST_API_KEYS: {entry}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


# --- Ingestion: source, pipeline, dead letters --------------------------------------------------

deadletters_app = typer.Typer(help="Messages the pipeline rejected: list, show, replay.")
app.add_typer(deadletters_app, name="deadletters")


@app.command()
def source(
    every: Annotated[
        float | None, typer.Option(help="Seconds between batches [default: settings, 180].")
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Events per batch [default: settings, 50].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Same seed, same events.")] = None,
    rate: Annotated[
        float | None, typer.Option(help="Load mode: messages per second (with --count).")
    ] = None,
    count: Annotated[int | None, typer.Option(help="Load mode: messages in total.")] = None,
    malformed_fraction: Annotated[
        float | None, typer.Option(help="Share of malformed messages [default: settings].")
    ] = None,
    duplicate_fraction: Annotated[
        float | None, typer.Option(help="Share of repeated events [default: settings].")
    ] = None,
    batches: Annotated[
        int | None, typer.Option(help="Stop after this many scheduled batches.")
    ] = None,
) -> None:
    """Publish CloudEvents to the topic: a batch now and every --every seconds, or --rate/--count.

    Every published message is recorded in the ledger (<data dir>/source-ledger.sqlite3).
    """
    from bqingest.source import command

    if (rate is None) != (count is None):
        raise typer.BadParameter("--rate and --count go together (load mode)")
    raise typer.Exit(
        command.run(
            load(SourceSettings),
            every=every,
            batch_size=batch,
            seed=seed,
            rate=rate,
            count=count,
            malformed_fraction=malformed_fraction,
            duplicate_fraction=duplicate_fraction,
            batches=batches,
            console=console,
        )
    )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def pipeline(
    ctx: typer.Context,
    runner: Annotated[
        str, typer.Option(help="BundleBasedDirectRunner (local) or DataflowRunner.")
    ] = "BundleBasedDirectRunner",
) -> None:
    """Run the streaming pipeline with options built from the settings.

    Extra arguments go to Beam as they are (e.g. --region=... --temp_location=gs://... for
    Dataflow). Locally it checks the emulators, recovers, then runs until stopped.
    """
    from bqingest.pipeline.command import pipeline_argv
    from bqingest.pipeline.main import configure_logging, run

    configure_logging()
    argv = pipeline_argv(load(PipelineSettings), runner=runner, extra=list(ctx.args))
    run(argv)


@deadletters_app.command("list")
def deadletters_list(
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    stage: Annotated[str | None, typer.Option(help="Only this stage: parse or sink.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only rejected at or after (ISO 8601, UTC if no zone).")
    ] = None,
    replayed: Annotated[
        bool, typer.Option("--replayed/--not-replayed", help="Include already replayed ones.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List dead letters (one line per rejected message, oldest first)."""
    from bqingest.operations.dead_letters_view import run_list

    run_list(
        load(OperationsSettings),
        console=console,
        reason=reason,
        stage=stage,
        since=since,
        include_replayed=replayed,
        limit=limit,
    )


@deadletters_app.command("show")
def deadletters_show(
    dead_letter_id: Annotated[str, typer.Argument(help="The dead_letter_id to show.")],
    payload_out: Annotated[
        Path | None, typer.Option("--payload-out", help="Write the raw payload to this file.")
    ] = None,
) -> None:
    """Show one dead letter in full; --payload-out saves its raw payload to edit and replay."""
    from bqingest.operations.dead_letters_view import run_show

    raise typer.Exit(
        run_show(
            load(OperationsSettings),
            console=console,
            dead_letter_id=dead_letter_id,
            payload_out=payload_out,
        )
    )


@deadletters_app.command("replay")
def deadletters_replay(
    dead_letter_id: Annotated[
        list[str] | None, typer.Option("--id", help="Replay this dead letter (repeatable).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Replay every one with this reason.")] = None,
    stage: Annotated[str | None, typer.Option(help="Only this stage: parse or sink.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only rejected at or after.")] = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Replay every dead letter not yet replayed.")
    ] = False,
    payload: Annotated[
        Path | None, typer.Option(help="Fixed body to publish instead (exactly one --id).")
    ] = None,
    set_attribute: Annotated[
        list[str] | None, typer.Option("--set-attribute", help="KEY=VALUE (repeatable).")
    ] = None,
    drop_attribute: Annotated[
        list[str] | None, typer.Option("--drop-attribute", help="KEY (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    dry_run: Annotated[bool, typer.Option(help="Show what would be replayed.")] = False,
) -> None:
    """Republish dead letters to the main topic, once each (records replayed_at)."""
    from bqingest.operations.dead_letters_view import run_replay

    raise typer.Exit(
        run_replay(
            load(OperationsSettings),
            console=console,
            ids=dead_letter_id or [],
            reason=reason,
            stage=stage,
            since=since,
            replay_all=replay_all,
            payload=payload,
            set_attributes=set_attribute or [],
            drop_attributes=drop_attribute or [],
            limit=limit,
            dry_run=dry_run,
        )
    )


# --- Operations: status, reconcile ---------------------------------------------------------------


@app.command()
def status(
    once: Annotated[
        bool, typer.Option("--once", help="Print one snapshot and exit (for scripts).")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.2, max=300, help="Seconds between two readings.")
    ] = 5.0,
    window: Annotated[
        float, typer.Option(min=1, max=3600, help="Live view: seconds the rates cover.")
    ] = 60.0,
    max_freshness: Annotated[
        float, typer.Option(min=0, help="Unhealthy above this p95 publish-to-write lag (s).")
    ] = 60.0,
    max_backlog_growth: Annotated[
        float, typer.Option(min=0, help="Unhealthy when the backlog grows more in the window.")
    ] = 500.0,
    max_api_error_ratio: Annotated[
        float, typer.Option(min=0, max=1, help="Unhealthy above this share of API 5xx.")
    ] = 0.05,
) -> None:
    """Live view of the local stack `bqingest up` runs; exit 1 when a health rule fails.

    Reads the source's, the pipeline's and the API's /metrics (same settings as `up`) and the
    warehouse's counts. --once takes two readings --interval seconds apart and prints one
    snapshot.
    """
    from bqingest.operations import status as status_view
    from bqingest.operations.rules import Thresholds

    settings = load(LocalSettings)
    if not settings.is_local:
        err_console.print(
            "[red]error:[/] bqingest status watches the local stack; in "
            f"{settings.environment} use the Cloud Monitoring dashboard "
            "(terraform output monitoring_dashboard_url)",
            highlight=False,
        )
        raise typer.Exit(1)
    raise typer.Exit(
        status_view.run(
            settings,
            console=console,
            once=once,
            interval=interval,
            window=window,
            thresholds=Thresholds(
                max_freshness_seconds=max_freshness,
                max_backlog_growth=max_backlog_growth,
                max_api_error_ratio=max_api_error_ratio,
            ),
        )
    )


@app.command()
def reconcile(
    since: Annotated[
        str, typer.Option(help="Window start: ISO 8601 (UTC if no zone) or a duration ago (2h).")
    ],
    until: Annotated[
        str | None,
        typer.Option(help="Window end (exclusive) [default: now minus the grace period]."),
    ] = None,
    grace: Annotated[
        float | None,
        typer.Option(
            min=0, help="Seconds before now the window must end [default: settings, 300]."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON line (a structured log entry).")
    ] = False,
) -> None:
    """Compare what was published in a window with events plus dead_letters; exit 1 if any is
    missing.

    Locally, id by id against the source's ledger; in the cloud, counts against Cloud
    Monitoring's Pub/Sub publish count. Prints the processing-correctness SLI.
    """
    from datetime import UTC

    from bqingest.operations import reconcile as reconciliation
    from bqingest.operations.reach import require_emulators
    from bqingest.operations.reconcile_view import render

    settings = load(OperationsSettings)
    require_emulators(settings)
    bq = clients.bigquery_client(settings.endpoints)
    try:
        report = reconciliation.run(
            settings, bq, since=since, until=until, grace=grace, now=datetime.now(UTC)
        )
    finally:
        bq.close()  # type: ignore[no-untyped-call]
    if as_json:
        print(report.to_json(), flush=True)
    else:
        render(report, console)
    raise typer.Exit(0 if report.ok else 1)


def _describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        variable = f"BQINGEST_{where.upper()}" if where else "settings"
        parts.append(f"{variable}: {error['msg']}")
    return "invalid settings: " + "; ".join(parts)


def _print_error(message: str) -> None:
    """An error's text as it is: it may quote data (a dead letter's URI, a table name), which
    must never be read as rich markup."""
    from rich.text import Text

    err_console.print(Text("error:", style="red") + Text(" " + message), highlight=False)


def main() -> None:
    """Entry point of the ``bqingest`` console script."""
    try:
        app()
    except ValidationError as exc:
        _print_error(_describe_validation_error(exc))
        sys.exit(1)
    except BqingestError as exc:  # the project's own errors, every part's (bqingest.errors)
        _print_error(str(exc))
        sys.exit(1)
