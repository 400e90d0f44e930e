"""How dead letters are shown and recovered: producers' bytes never drive the terminal."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bqingest.operations.dead_letters import ReplayError, whole_body
from bqingest.operations.dead_letters_view import print_list, print_one
from bqingest.warehouse.records import DeadLetter

T = datetime(2026, 11, 29, 7, tzinfo=UTC)
HOSTILE = b'[/]{"a": "[bold red]x[/]"}\x1b[2J\x1b]0;owned\x07\r\x00tail'


def letter(payload: bytes = HOSTILE, **changes: object) -> DeadLetter:
    values: dict[str, object] = {
        "dead_letter_id": "dl1",
        "reason": "not_json",
        "stage": "parse",
        "error_message": "data is not valid JSON [/]",
        "error_field": None,
        "message_id": "m1",
        "publish_time": T,
        "failed_at": T,
        "replayed_at": None,
        "attributes": {"k[/]": "\x1b[31mred"},
        "raw_payload": payload,
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_truncated": False,
        "payload_uri": None,
    }
    values.update(changes)
    return DeadLetter(**values)  # type: ignore[arg-type]


def test_markup_and_control_characters_are_printed_as_text_never_obeyed() -> None:
    console = Console(record=True, width=200, force_terminal=True)
    print_list(console, [letter()])  # "[/]" used to crash the listing (rich markup)
    print_one(console, letter())
    shown = console.export_text()
    assert "[/]" in shown and "[bold red]x[/]" in shown
    assert "\x1b" not in shown and "\r" not in shown and "\x00" not in shown
    assert "\\x1b[2J" in shown and "\\x07" in shown


def test_a_truncated_letter_shows_where_its_whole_body_is() -> None:
    console = Console(record=True, width=300)
    print_one(
        console,
        letter(
            payload=b"{" * 10,
            payload_bytes=9_900_000,
            payload_truncated=True,
            payload_uri="gs://b/dead-letter-payloads/dl1.bin",
        ),
    )
    shown = console.export_text()
    assert "9900000 bytes, first 10 kept in the row" in shown
    assert "gs://b/dead-letter-payloads/dl1.bin" in shown


def test_the_whole_body_comes_from_the_archive_and_is_checked(tmp_path: Path) -> None:
    body = b"x" * 100
    archived = tmp_path / "dl1.bin"
    archived.write_bytes(body)
    truncated = letter(
        payload=body[:10],
        payload_bytes=100,
        payload_sha256=hashlib.sha256(body).hexdigest(),
        payload_truncated=True,
        payload_uri=str(archived),
    )
    assert whole_body(truncated) == body
    assert whole_body(letter(b"{}")) == b"{}"
    archived.write_bytes(b"y" * 100)
    with pytest.raises(ReplayError, match="does not match"):
        whole_body(truncated)
    with pytest.raises(ReplayError, match="not archived"):
        whole_body(dataclasses.replace(truncated, payload_uri=None))
