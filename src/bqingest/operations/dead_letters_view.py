"""``bqingest deadletters list|show|replay``: argument handling and output."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bqingest import clients
from bqingest.config import OperationsSettings
from bqingest.contract import Reason, Stage
from bqingest.operations.dead_letters import Fix, ReplayError, replay, whole_body
from bqingest.operations.reach import WAREHOUSE, require_emulators
from bqingest.warehouse.dead_letters import Selection, list_dead_letters
from bqingest.warehouse.records import DeadLetter


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _reason(value: str | None) -> Reason | None:
    if value is None:
        return None
    try:
        return Reason(value)
    except ValueError:
        raise ReplayError(
            f"unknown reason {value!r}; one of: {', '.join(r.value for r in Reason)}"
        ) from None


def _stage(value: str | None) -> Stage | None:
    if value is None:
        return None
    try:
        return Stage(value)
    except ValueError:
        raise ReplayError(
            f"unknown stage {value!r}; one of: {', '.join(s.value for s in Stage)}"
        ) from None


def selection(
    *,
    ids: Sequence[str] = (),
    reason: str | None = None,
    stage: str | None = None,
    since: datetime | None = None,
    include_replayed: bool = False,
    limit: int = 100,
) -> Selection:
    """A Selection from command-line values (reason and stage checked against the contract)."""
    return Selection(
        ids=tuple(ids),
        reason=_reason(reason),
        stage=_stage(stage),
        since=_aware(since),
        include_replayed=include_replayed,
        limit=limit,
    )


_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> Text:
    """Text from a producer, shown as is: control characters (a terminal's escape sequences, a
    carriage return that would overwrite the line) as ``\\xNN``, and never read as rich markup."""
    return Text(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


def _preview(payload: bytes, width: int = 60) -> Text:
    text = payload[:width].decode("utf-8", errors="backslashreplace")
    return safe(text + ("..." if len(payload) > width else ""))


def _payload(letter: DeadLetter) -> Text:
    described = f"{letter.payload_bytes} bytes"
    if letter.payload_truncated:
        described += (
            f", first {len(letter.raw_payload)} kept in the row; whole body: "
            f"{letter.payload_uri or '(not archived)'}"
        )
    if letter.payload_sha256:
        described += f", sha256 {letter.payload_sha256}"
    return Text(f"{described}: ") + _preview(letter.raw_payload, 400)


def print_list(console: Console, letters: Sequence[DeadLetter]) -> None:
    table = Table(show_header=True, header_style="bold", title=f"{len(letters)} dead letter(s)")
    columns = ("dead_letter_id", "failed_at", "stage", "reason", "error", "payload", "replayed")
    for column in columns:
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            letter.dead_letter_id,
            letter.failed_at.isoformat(timespec="seconds"),
            letter.stage,
            letter.reason,
            safe(letter.error_message[:80]),
            _preview(letter.raw_payload),
            letter.replayed_at.isoformat(timespec="seconds") if letter.replayed_at else "",
        )
    console.print(table)


def print_one(console: Console, letter: DeadLetter) -> None:
    fields: dict[str, Text] = {
        "dead_letter_id": safe(letter.dead_letter_id),
        "reason": safe(letter.reason),
        "stage": safe(letter.stage),
        "error": safe(letter.error_message),
        "field": safe(letter.error_field or ""),
        "message_id": safe(letter.message_id or ""),
        "publish_time": Text(letter.publish_time.isoformat() if letter.publish_time else ""),
        "failed_at": Text(letter.failed_at.isoformat()),
        "replayed_at": Text(letter.replayed_at.isoformat() if letter.replayed_at else "(never)"),
        "attributes": safe(", ".join(f"{k}={v}" for k, v in sorted(letter.attributes.items()))),
        "payload": _payload(letter),
    }
    for name, value in fields.items():
        console.print(Text(f"{name:>14} ", style="bold") + value, highlight=False, soft_wrap=True)


def run_list(
    settings: OperationsSettings,
    *,
    console: Console,
    reason: str | None,
    stage: str | None,
    since: datetime | None,
    include_replayed: bool,
    limit: int,
) -> None:
    require_emulators(settings)
    letters = list_dead_letters(
        clients.bigquery_client(settings.endpoints),
        table=settings.dead_letter_table_id,
        selection=selection(
            reason=reason, stage=stage, since=since, include_replayed=include_replayed, limit=limit
        ),
    )
    print_list(console, letters)


def run_show(
    settings: OperationsSettings, *, console: Console, dead_letter_id: str, payload_out: Path | None
) -> int:
    require_emulators(settings)
    letters = list_dead_letters(
        clients.bigquery_client(settings.endpoints),
        table=settings.dead_letter_table_id,
        selection=selection(ids=[dead_letter_id], include_replayed=True, limit=1),
    )
    if not letters:
        raise ReplayError(f"no dead letter {dead_letter_id} in {settings.dead_letter_table_id}")
    print_one(console, letters[0])
    if payload_out is not None:
        payload_out.write_bytes(whole_body(letters[0]))
        console.print(f"raw payload written to {payload_out}", highlight=False)
    return 0


def _parse_attributes(pairs: Sequence[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ReplayError(f"--set-attribute {pair!r}: expected KEY=VALUE")
        attributes[key] = value
    return attributes


def run_replay(
    settings: OperationsSettings,
    *,
    console: Console,
    ids: Sequence[str],
    reason: str | None,
    stage: str | None,
    since: datetime | None,
    replay_all: bool,
    payload: Path | None,
    set_attributes: Sequence[str],
    drop_attributes: Sequence[str],
    limit: int,
    dry_run: bool,
) -> int:
    """Replay and report; exit code 1 when some messages could not be published."""
    chosen = selection(ids=ids, reason=reason, stage=stage, since=since, limit=limit)
    if chosen.is_empty and not replay_all:
        raise ReplayError("choose what to replay: --id, --reason, --stage, --since, or --all")
    if replay_all and not chosen.is_empty:
        raise ReplayError("--all replays everything: do not combine it with filters")
    if replay_all:
        chosen = Selection(since=datetime(1970, 1, 1, tzinfo=UTC), limit=limit)
    fix = Fix(
        payload=payload.read_bytes() if payload is not None else None,
        set_attributes=_parse_attributes(set_attributes),
        drop_attributes=tuple(drop_attributes),
    )
    require_emulators(settings, (*WAREHOUSE, "pubsub_emulator"))
    result = replay(
        clients.bigquery_client(settings.endpoints),
        clients.publisher_client(settings.endpoints),
        table=settings.dead_letter_table_id,
        topic_path=settings.topic_path,
        selection=chosen,
        fix=fix,
        dry_run=dry_run,
    )
    if dry_run:
        print_list(console, result.selected)
        console.print(f"dry run: {len(result.selected)} would be replayed")
        return 0
    for dead_letter_id, message_id in result.published.items():
        console.print(f"replayed {dead_letter_id} as message {message_id}", highlight=False)
    for dead_letter_id in result.already_claimed:
        console.print(f"skipped {dead_letter_id}: replayed by another run", highlight=False)
    for dead_letter_id, error in result.failed.items():
        console.print(f"[red]failed[/] {dead_letter_id}: {error} (released)", highlight=False)
    console.print(
        f"{len(result.published)} replayed, {len(result.already_claimed)} already replayed, "
        f"{len(result.failed)} failed"
    )
    return 1 if result.failed else 0
