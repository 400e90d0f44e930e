"""Operations commands against a stopped local stack: an error in a second, not minutes of
client retries."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bqingest.cli import app
from bqingest.operations.errors import EmulatorUnreachable
from bqingest.operations.reach import require_emulators
from tests.conftest import local_settings
from tests.support import free_port


def test_a_silent_emulator_is_named_with_what_to_do(tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    settings = local_settings(tmp_path, bigquery_emulator_host=host)
    with pytest.raises(EmulatorUnreachable) as caught:
        require_emulators(settings)
    message = str(caught.value)
    assert f"the BigQuery emulator (REST) does not answer at {host}" in message
    assert "`make run`" in message


def test_only_the_emulators_a_command_uses_are_checked(tmp_path: Path) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        up = f"127.0.0.1:{listening.getsockname()[1]}"
        down = f"127.0.0.1:{free_port()}"
        settings = local_settings(tmp_path, bigquery_emulator_host=up, pubsub_emulator_host=down)
        require_emulators(settings)  # the warehouse answers; Pub/Sub is not asked
        with pytest.raises(EmulatorUnreachable, match="the Pub/Sub emulator does not answer"):
            require_emulators(settings, ("bigquery_emulator", "pubsub_emulator"))


def test_in_the_cloud_nothing_is_checked(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, environment="dev")  # no emulator configured
    require_emulators(settings, ("bigquery_emulator", "pubsub_emulator"))


@pytest.mark.parametrize(
    "command",
    [
        ["reconcile", "--since", "1h", "--grace", "0"],
        ["deadletters", "list"],
        ["deadletters", "show", "dl1"],
        ["deadletters", "replay", "--all", "--dry-run"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_commands_stop_at_once_when_the_stack_is_down(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BQINGEST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BQINGEST_BIGQUERY_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("BQINGEST_PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    result = CliRunner().invoke(app, command)
    assert isinstance(result.exception, EmulatorUnreachable), result.output
    assert "does not answer" in str(result.exception)
    assert time.monotonic() - started < 10
