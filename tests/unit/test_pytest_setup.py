"""The test suite's own configuration: one place for each setting."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_markers_are_registered_once_in_pyproject() -> None:
    """Two registrations drift apart (they had two descriptions of ``static``)."""
    options = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    names = [line.split(":")[0] for line in options["tool"]["pytest"]["ini_options"]["markers"]]
    assert sorted(names) == sorted(set(names)) == ["integration", "slow", "static"]
    elsewhere = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "tests").rglob("*.py"))
        if re.search(r"addinivalue_line\(\s*[\"']markers", path.read_text(encoding="utf-8"))
    ]
    assert elsewhere == []
