"""``bqingest schemas check --base REF`` against a real git repository: what CI runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bqingest.cli import app
from bqingest.contract.registry import SHIPPED_SCHEMAS

ORDER = "com.bqingest.shop.order.created/v1.json"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose last commit holds the shipped schemas under schemas/."""
    git(tmp_path, "init", "-q", "-b", "main")
    shutil.copytree(SHIPPED_SCHEMAS, tmp_path / "schemas")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "schemas")
    return tmp_path


def check(folder: Path, *args: str):
    return CliRunner().invoke(app, ["schemas", "check", *args, str(folder)])


def edit(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / ORDER
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))


def test_unchanged_schemas_pass(repo: Path) -> None:
    result = check(repo / "schemas", "--base", "main")
    assert result.exit_code == 0, result.output
    assert "4 schemas" in result.output


def test_an_added_optional_property_passes(repo: Path) -> None:
    edit(repo / "schemas", lambda d: d["properties"].update(gift_wrap={"type": "string"}))
    result = check(repo / "schemas", "--base", "main")
    assert result.exit_code == 0, result.output


def test_a_removed_property_fails(repo: Path) -> None:
    edit(repo / "schemas", lambda d: d["properties"].pop("customer_id"))
    result = check(repo / "schemas", "--base", "main")
    assert result.exit_code == 1
    assert f"{ORDER}#/properties/customer_id: property removed" in result.output


def test_a_changed_type_fails(repo: Path) -> None:
    edit(repo / "schemas", lambda d: d["properties"]["total"].update(type="string"))
    result = check(repo / "schemas", "--base", "main")
    assert result.exit_code == 1
    assert "#/properties/total: 'type' changed" in result.output


def test_the_change_as_a_new_major_version_passes(repo: Path) -> None:
    folder = repo / "schemas"
    v2 = json.loads((folder / ORDER).read_text())
    v2["$id"] = v2["$id"].replace("/1.json", "/2.json")
    v2["properties"]["total"]["type"] = "string"
    (folder / ORDER.replace("v1", "v2")).write_text(json.dumps(v2))
    result = check(folder, "--base", "main")
    assert result.exit_code == 0, result.output


def test_a_rule_broken_without_base_fails(repo: Path) -> None:
    edit(repo / "schemas", lambda d: d.update(additionalProperties=False))
    result = check(repo / "schemas")
    assert result.exit_code == 1
    assert "additionalProperties" in result.output
