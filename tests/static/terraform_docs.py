"""Generate the variable and output tables of the Terraform documentation.

Each table sits between markers in a Markdown file::

    <!-- BEGIN TERRAFORM DOCS: modules/pubsub -->
    ...generated...
    <!-- END TERRAFORM DOCS: modules/pubsub -->

where ``modules/pubsub`` is a directory under ``terraform/`` (``root`` is terraform/ itself).
Regenerate after changing a variable or an output::

    .venv/bin/python -m tests.static.terraform_docs

tests/static/test_terraform.py fails while any table is out of date.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tests.static import terraform_config as tf

_BLOCK = re.compile(
    r"(<!-- BEGIN TERRAFORM DOCS: (?P<dir>[\w/]+) -->\n)(?P<body>.*?)"
    r"(<!-- END TERRAFORM DOCS: (?P=dir) -->)",
    re.S,
)
_LONGEST_DEFAULT = 40


DEPLOY = tf.REPO / "docs" / "deploy.md"


def documents() -> list[Path]:
    """Files that hold tables: docs/deploy.md and each module's README."""
    return [DEPLOY, *sorted(tf.MODULES.glob("*/README.md"))]


def required_blocks() -> dict[str, Path]:
    """Directory -> file that must document it."""
    blocks = {f"modules/{p.name}": p / "README.md" for p in tf.MODULES.iterdir() if p.is_dir()}
    blocks["root"] = DEPLOY
    blocks["bootstrap"] = DEPLOY
    return blocks


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(variable: tf.Variable) -> str:
    if not variable.has_default:
        return "*required*"
    value: Any = variable.default
    rendered = json.dumps(value, separators=(", ", ": ")) if value is not None else "null"
    if len(rendered) > _LONGEST_DEFAULT:
        return "see `variables.tf`"
    return f"`{rendered}`"


def render(directory: str) -> str:
    """The Markdown tables of one Terraform directory."""
    config = tf.load(str(tf.ROOT if directory == "root" else tf.TERRAFORM / directory))
    lines = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name in sorted(config.variables):
        variable = config.variables[name]
        lines.append(
            f"| `{name}` | `{_cell(variable.type)}` | {_default(variable)} "
            f"| {_cell(variable.description or '')} |"
        )
    if config.outputs:
        lines += ["", "| Output | Description |", "| --- | --- |"]
        for name in sorted(config.outputs):
            lines.append(
                f"| `{name}` | {_cell(str(config.outputs[name].get('description', '')))} |"
            )
    return "\n".join(lines) + "\n"


def regenerate(text: str) -> str:
    return _BLOCK.sub(lambda m: m.group(1) + render(m.group("dir")) + m.group(4), text)


def stale_documents() -> list[str]:
    """Files whose tables differ from the code, or that lack a required table."""
    stale = []
    for directory, path in required_blocks().items():
        if (
            not path.is_file()
            or f"<!-- BEGIN TERRAFORM DOCS: {directory} -->" not in path.read_text()
        ):
            stale.append(f"{path.relative_to(tf.REPO)} (no table for {directory})")
    for path in documents():
        text = path.read_text()
        if regenerate(text) != text:
            stale.append(str(path.relative_to(tf.REPO)))
    return stale


def main() -> int:
    for path in documents():
        text = path.read_text()
        updated = regenerate(text)
        if updated != text:
            path.write_text(updated)
            print(f"updated {path.relative_to(tf.REPO)}")
    missing = [s for s in stale_documents() if "no table" in s]
    for problem in missing:
        print(f"missing: {problem}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
