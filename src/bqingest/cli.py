"""The ``bqingest`` command line.

Every command reads the same Settings (``BQINGEST_*`` variables or ``.env``). Expected failures
(a missing prerequisite, a busy port, an invalid setting, a resource in the wrong shape) print one
``error:`` line and exit 1; a stack trace means a bug.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from bqingest import clients
from bqingest.bootstrap import BootstrapError, bootstrap
from bqingest.config import Settings, UnsafeSettings, get_settings
from bqingest.contract import schema as table_schema
from bqingest.local.errors import LocalStackError

app = typer.Typer(
    name="bqingest",
    help="Stream CloudEvents from Pub/Sub through Apache Beam into BigQuery, and serve them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
schema_app = typer.Typer(help="The warehouse tables, as derived from the event contract.")
app.add_typer(schema_app, name="schema")
api_app = typer.Typer(
    help="Serve the read API (without a sub-command), or manage its API keys.",
    invoke_without_command=True,
)
app.add_typer(api_app, name="api")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    return get_settings()


@app.command()
def up() -> None:
    """Run the whole system locally (emulators, resources, services) until Ctrl-C."""
    from bqingest.local import up as local_up

    raise typer.Exit(local_up.run(_settings(), console=console))


@app.command(name="bootstrap")
def bootstrap_command() -> None:
    """Create topics, subscriptions, dataset, tables and view; safe to run again."""
    settings = _settings()
    report = bootstrap(
        settings,
        bigquery_client=clients.bigquery_client(settings),
        publisher=clients.publisher_client(settings),
        subscriber=clients.subscriber_client(settings),
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
    """Write BigQuery JSON schema files (and the dedup view's SQL template) to DIRECTORY."""
    for path in table_schema.export(directory):
        console.print(f"wrote {path}")


@schema_app.command("show")
def schema_show() -> None:
    """Print the tables' columns, partitioning and clustering as JSON."""
    summary = [table_schema.describe(spec) for spec in table_schema.TABLES]
    console.print_json(json.dumps(summary))


@app.command(name="settings")
def settings_command() -> None:
    """Print the effective settings as the environment variables that set them."""
    for name, value in _settings().model_dump().items():
        shown = "" if value is None else value
        console.print(f"BQINGEST_{name.upper()}={shown}", highlight=False)


@api_app.callback()
def api_serve(ctx: typer.Context) -> None:
    """Serve the API on BQINGEST_API_HOST:BQINGEST_API_PORT until Ctrl-C or SIGTERM."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from bqingest.api.main import create_app

    settings = _settings()
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
) -> None:
    """Print the digest of an API key (read from stdin) for BQINGEST_API_KEYS."""
    from bqingest.api.security import generate_api_key, hash_api_key

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
    console.print(f"BQINGEST_API_KEYS={digest}", highlight=False, soft_wrap=True)


def _describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        variable = f"BQINGEST_{where.upper()}" if where else "settings"
        parts.append(f"{variable}: {error['msg']}")
    return "invalid settings: " + "; ".join(parts)


def main() -> None:
    """Entry point of the ``bqingest`` console script."""
    try:
        app()
    except ValidationError as exc:
        err_console.print(f"[red]error:[/] {_describe_validation_error(exc)}", highlight=False)
        sys.exit(1)
    except (LocalStackError, BootstrapError, UnsafeSettings) as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(1)
