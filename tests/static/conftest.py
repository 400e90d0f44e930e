"""Static checks: every test here is marked ``static`` (``pytest -m static`` runs them alone).

The markers are registered once, in pyproject.toml (``[tool.pytest.ini_options] markers``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.static)
