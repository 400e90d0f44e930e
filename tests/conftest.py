"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bqingest.config import LocalSettings, load
from bqingest.contract import MessageContext

PUBLISHED = datetime(2026, 11, 29, 7, 0, 0, tzinfo=UTC)


def context(
    attributes: dict[str, str] | None = None, message_id: str = "1234567890"
) -> MessageContext:
    """A Pub/Sub message context as the pipeline would see it."""
    return MessageContext(
        message_id=message_id, publish_time=PUBLISHED, attributes=attributes or {}
    )


def local_settings(tmp_path: Path, **overrides: object) -> LocalSettings:
    """Settings for tests (every group): local mode, no .env, data under tmp_path."""
    values: dict[str, object] = {"data_dir": tmp_path / "data", "project": "bqingest-test"}
    values.update(overrides)
    return LocalSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's BQINGEST_* variables or a cached Settings."""
    import os

    for name in list(os.environ):
        if name.startswith("BQINGEST_") or name == "PUBSUB_EMULATOR_HOST":
            monkeypatch.delenv(name)
    load.cache_clear()
    yield
    load.cache_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/static are static checks (``make test-static``), never unit tests."""
    for item in items:
        if "tests/static/" in str(item.fspath):
            item.add_marker(pytest.mark.static)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-ahead",
        type=float,
        default=0.0,
        metavar="DAYS",
        help="Run the tests with this process's wall clock DAYS ahead of the real one (it keeps "
        "ticking; monotonic clocks and child processes are untouched). make test runs the unit "
        "and API layers once more with it: a test must pass on any date.",
    )


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-ahead")
    if days:
        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-ahead")
    if not days:
        return None
    return f"clock: {days:g} days ahead, now {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
