"""Static checks: every test here is marked ``static`` (``pytest -m static`` runs them alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "static: checks of files (Terraform, workflows, images, docs) that need no emulator",
    )
    config.addinivalue_line(
        "markers",
        "slow: builds a Python environment from PyPI on first run (then cached), tens of seconds",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.static)
